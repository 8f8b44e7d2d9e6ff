// WaitObjects: what a waiting task waits on, named from the address in its control block.
//
// A task that waits keeps the address of its object's waiters mask (`waitingOn` in the TCB).
// The image says whose mask lies where: the generated storage has fixed symbols
// (`keel_mutexes`, `keel_semaphores` and `keel_event_flags`, two words per object in the
// manifest's order; `keel_queue_NAME`, receivers' mask then senders'; `keel_pool_NAME`, the
// linker script's; the notification waiters, a word of `keel_scheduler`), and the manifest, when there is
// one, names the mutexes, semaphores and event flags. For a mutex the
// holder is the byte after its mask (its second word: task index + 1), read from the target.

/// One kernel object a task can wait on.
public struct WaitObject: Sendable, Equatable {
    public enum Kind: String, Sendable { case mutex, semaphore, queueReceive, queueSend, notification, pool, eventFlags, streamRead, streamWrite }
    public var kind: Kind
    /// The manifest's name; nil for a mutex or semaphore of an image read without its manifest.
    public var name: String?
    /// Its index among the objects of its kind (mutexes, semaphores).
    public var index: Int

    /// "mutex 'bus'", "a receive from queue 'samples'", "a notification".
    public var description: String {
        let named = name.map { "'\($0)'" } ?? "#\(index)"
        switch kind {
        case .mutex: return "mutex \(named)"
        case .semaphore: return "semaphore \(named)"
        case .queueReceive: return "queue \(named) (to receive)"
        case .queueSend: return "queue \(named) (room to send)"
        case .notification: return "a notification"
        case .pool: return "a block of pool \(named)"
        case .eventFlags: return "event flags \(named)"
        case .streamRead: return "stream buffer \(named) (bytes to read)"
        case .streamWrite: return "stream buffer \(named) (room to write)"
        }
    }
}

public enum WaitObjects {
    public static let mutexesSymbol = "keel_mutexes"
    public static let semaphoresSymbol = "keel_semaphores"
    public static let queuePrefix = "keel_queue_"
    /// A memory pool's storage (the linker script's symbol); its waiters mask is the first word.
    public static let poolPrefix = "keel_pool_"
    public static let eventFlagsSymbol = "keel_event_flags"
    /// A stream buffer's storage: the reader's mask, then the writer's.
    public static let streamPrefix = "keel_stream_"
    /// The kernel's tick count (`tickCount`, Firmware/Kernel/Time.swift).
    public static let tickSymbol = "keel_tick_count"

    /// Every waiters mask of the image by address. `objects` names the mutexes and semaphores
    /// in table order (`TaskTableGenerator.objects`); without it they are numbered.
    /// `notificationWaiters`: the address of the notification waiters' mask (in `keel_scheduler`).
    public static func map(_ elf: ELFFile, objects: KernelObjects?, notificationWaiters: UInt32) -> [UInt32: WaitObject] {
        var map: [UInt32: WaitObject] = [:]
        func table(_ symbol: String, _ kind: WaitObject.Kind, names: [String]?) {
            guard let found = elf.symbol(named: symbol), found.isDefined else { return }
            let count = names?.count ?? Int(found.size / 8)
            for index in 0..<count {
                map[found.value + UInt32(8 * index)] = WaitObject(kind: kind, name: names?[index], index: index)
            }
        }
        table(mutexesSymbol, .mutex, names: objects?.mutexes.map(\.name))
        table(semaphoresSymbol, .semaphore, names: objects?.semaphores.map(\.name))
        table(eventFlagsSymbol, .eventFlags, names: objects?.eventFlags.map(\.name))
        // One symbol per object, named after it: its masks at the start of its storage, in this order.
        func named(_ prefix: String, _ kinds: [WaitObject.Kind]) {
            for symbol in elf.symbols where symbol.isDefined && symbol.name.hasPrefix(prefix) {
                let name = String(symbol.name.dropFirst(prefix.count))
                for (slot, kind) in kinds.enumerated() { map[symbol.value + UInt32(4 * slot)] = WaitObject(kind: kind, name: name, index: 0) }
            }
        }
        named(queuePrefix, [.queueReceive, .queueSend])
        named(streamPrefix, [.streamRead, .streamWrite])
        named(poolPrefix, [.pool])
        map[notificationWaiters] = WaitObject(kind: .notification, name: nil, index: 0)
        return map
    }
}
