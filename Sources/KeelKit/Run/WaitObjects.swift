// WaitObjects: what a waiting task waits on, named from the address in its control block.
//
// A task that waits keeps the address of its object's waiters mask (`waitingOn` in the TCB).
// The image says whose mask lies where: the generated storage has fixed symbols
// (`keel_mutexes` and `keel_semaphores`, two words per object in the manifest's order;
// `keel_queue_NAME`, receivers' mask then senders'; the kernel's `keel_notification_waiters`),
// and the manifest, when there is one, names the mutexes and semaphores. For a mutex the
// holder is the byte after its mask (its second word: task index + 1), read from the target.

/// One kernel object a task can wait on.
public struct WaitObject: Sendable, Equatable {
    public enum Kind: String, Sendable { case mutex, semaphore, queueReceive, queueSend, notification }
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
        }
    }
}

public enum WaitObjects {
    public static let mutexesSymbol = "keel_mutexes"
    public static let semaphoresSymbol = "keel_semaphores"
    public static let queuePrefix = "keel_queue_"
    public static let notificationsSymbol = "keel_notification_waiters"
    /// The kernel's tick count (`tickCount`, Firmware/Kernel/Time.swift).
    public static let tickSymbol = "keel_tick_count"

    /// Every waiters mask of the image by address. `objects` names the mutexes and semaphores
    /// in table order (`TaskTableGenerator.objects`); without it they are numbered.
    public static func map(_ elf: ELFFile, objects: KernelObjects?) -> [UInt32: WaitObject] {
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
        for symbol in elf.symbols where symbol.isDefined && symbol.name.hasPrefix(queuePrefix) {
            let name = String(symbol.name.dropFirst(queuePrefix.count))
            map[symbol.value] = WaitObject(kind: .queueReceive, name: name, index: 0)
            map[symbol.value + 4] = WaitObject(kind: .queueSend, name: name, index: 0)
        }
        if let notifications = elf.symbol(named: notificationsSymbol), notifications.isDefined {
            map[notifications.value] = WaitObject(kind: .notification, name: nil, index: 0)
        }
        return map
    }
}
