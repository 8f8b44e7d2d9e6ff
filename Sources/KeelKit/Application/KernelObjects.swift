// The kernel objects an application declares in its manifest: queues, semaphores, mutexes,
// memory pools, event flags.
//
//   "queues":      { "samples": { "element": "UInt32", "capacity": 8 } },
//   "semaphores":  { "ready": { "initial": 0, "max": 1 } },
//   "mutexes":     { "bus": {} },
//   "pools":       { "buffers": { "block": 128, "count": 8 } },
//   "event_flags": { "radio": { "initial": 0 } },
//   "timers":      { "blink": { "callback": "blinkExpired", "period_ms": 500, "start": true } },
//   "stream_buffers": { "rx": { "bytes": 128, "trigger": 1 } }
//
// Each becomes statically allocated storage and a constant of the same name in the
// application's module (`TaskTableGenerator.objects`), so nothing is allocated at run time
// and `keel layout` can say what each one costs. A queue's element is any BitwiseCopyable
// Swift type; for a type the tool does not know, "element_bytes" gives its stride (the
// build compares it with the compiler's and fails naming the queue and the size to declare:
// QueueElementCheck.swift).

import Foundation

public struct QueueSpec: Sendable, Equatable {
    public var name: String
    /// The Swift type of one element, as the application spells it.
    public var element: String
    public var capacity: Int
    /// `MemoryLayout<element>.stride`: known for the standard integer types, else the manifest's.
    public var elementBytes: Int
    /// Header (two waiter masks, the oldest index, the count) and slots, 8-byte aligned.
    public var bytes: Int { 16 + (capacity * elementBytes + 7) / 8 * 8 }
}

public struct SemaphoreSpec: Sendable, Equatable {
    public var name: String
    public var initial: Int
    public var maximum: Int
    public var bytes: Int { 8 }
}

public struct MutexSpec: Sendable, Equatable {
    public var name: String
    /// Waiters lend the holder their priority. Off only to show what inheritance prevents.
    public var inheritsPriority: Bool
    public var bytes: Int { 8 }
}

/// A pool of `count` fixed-size blocks (Firmware/Kernel/Services/MemoryPool.swift has the
/// storage's shape; the sizes here are the only place it is computed).
public struct PoolSpec: Sendable, Equatable {
    public var name: String
    /// Bytes of a block as declared.
    public var blockBytes: Int
    public var count: Int
    /// A block's bytes in storage: 8-byte aligned.
    public var stride: Int { (blockBytes + 7) / 8 * 8 }
    /// log2(stride) when the stride is a power of two (a block's index is a shift), else 0.
    public var strideShift: Int { stride & (stride - 1) == 0 ? stride.trailingZeroBitCount : 0 }
    /// Waiters, the full-words summary, then one bit per block; 8-byte aligned.
    public var headerBytes: Int { (8 + 4 * ((count + 31) / 32) + 7) / 8 * 8 }
    public var bytes: Int { headerBytes + stride * count }
}

/// 32 event flags: a waiters mask and the flags.
public struct EventFlagsSpec: Sendable, Equatable {
    public var name: String
    public var initial: UInt32
    public var bytes: Int { 8 }
}

/// A software timer: its callback (a function of the application, run by the timer task),
/// its interval and whether it repeats, and whether it starts at boot.
public struct TimerSpec: Sendable, Equatable {
    public var name: String
    public var callback: String
    public var milliseconds: Int
    public var periodic: Bool
    public var startsAtBoot: Bool
    /// The next expiry, the period and the active flag.
    public var bytes: Int { 12 }

    /// The interval in whole ticks, at least one (a timer never expires sooner than asked).
    public func ticks(tickHertz: Int) -> Int { max(1, (milliseconds * tickHertz + 999) / 1000) }
}

/// A byte stream: two waiter masks, the oldest byte's index, the count, then the bytes.
public struct StreamBufferSpec: Sendable, Equatable {
    public var name: String
    public var capacity: Int
    public var trigger: Int
    public var bytes: Int { 16 + (capacity + 7) / 8 * 8 }
}

public struct KernelObjects: Sendable, Equatable {
    public var queues: [QueueSpec] = []
    public var semaphores: [SemaphoreSpec] = []
    public var mutexes: [MutexSpec] = []
    public var pools: [PoolSpec] = []
    public var eventFlags: [EventFlagsSpec] = []
    public var timers: [TimerSpec] = []
    public var streamBuffers: [StreamBufferSpec] = []

    public init() {}

    public var isEmpty: Bool {
        queues.isEmpty && semaphores.isEmpty && mutexes.isEmpty && pools.isEmpty && eventFlags.isEmpty && timers.isEmpty && streamBuffers.isEmpty
    }

    /// Every object: kind, name, bytes of RAM, and what it is (for `keel layout`).
    public var summary: [(kind: String, name: String, bytes: Int, detail: String)] {
        queues.map { ("queue", $0.name, $0.bytes, "\($0.capacity) × \($0.element) (\($0.elementBytes) bytes each)") }
            + semaphores.map { ("semaphore", $0.name, $0.bytes, "initial \($0.initial), max \($0.maximum)") }
            + mutexes.map { ("mutex", $0.name, $0.bytes, $0.inheritsPriority ? "priority inheritance" : "no priority inheritance") }
            + pools.map { ("pool", $0.name, $0.bytes, "\($0.count) × \($0.blockBytes)-byte blocks" + ($0.stride != $0.blockBytes ? " (\($0.stride) in storage)" : "")) }
            + eventFlags.map { ("event flags", $0.name, $0.bytes, "32 flags, initial 0x\(String($0.initial, radix: 16))") }
            + streamBuffers.map { ("stream buffer", $0.name, $0.bytes, "\($0.capacity) bytes, trigger \($0.trigger)") }
            + timers.map { ("timer", $0.name, $0.bytes, "\($0.callback)() \($0.periodic ? "every" : "once after") \($0.milliseconds) ms\($0.startsAtBoot ? ", started at boot" : "")") }
    }

    /// The pools' storage, which the linker script reserves in .bss.
    public var poolBytes: Int { pools.reduce(0) { $0 + $1.bytes } }

    public var totalBytes: Int { summary.reduce(0) { $0 + $1.bytes } }

    /// Strides of the element types Keel knows; any other type needs "element_bytes".
    static let knownStrides: [String: Int] = [
        "Bool": 1, "UInt8": 1, "Int8": 1, "UInt16": 2, "Int16": 2, "UInt32": 4, "Int32": 4, "UInt": 4, "Int": 4,
        "Float": 4, "Float32": 4, "UInt64": 8, "Int64": 8, "Double": 8, "Float64": 8,
    ]
    public static let maximumQueueCapacity = 65535
    public static let maximumSemaphoreCount = 65535
    /// A pool's blocks: at most 64 KiB each, 1024 of them (32 bit words under one 32-bit summary
    /// word keep allocation O(1)).
    public static let maximumPoolBlockBytes = 65536
    public static let maximumPoolBlocks = 1024
    /// The timer task takes the due timers as one 32-bit mask.
    public static let maximumTimers = 32
    /// A queue's storage is generated as a literal; 16 KiB is more than a message queue needs.
    public static let maximumQueueBytes = 16384
    /// A mutex holder is kept in a byte and a waiter in a 32-bit mask: plenty for 31 tasks.
    public static let maximumObjectsOfAKind = 64

    /// Reads the seven keys of a manifest; names must be Swift identifiers, unique across all seven.
    static func parse(_ root: [String: Any], tasks: [TaskSpec], _ invalid: (String) -> KeelError) throws(KeelError) -> KernelObjects {
        var objects = KernelObjects()
        var names: Set<String> = []
        func entries(_ key: String) throws(KeelError) -> [(String, [String: Any])] {
            guard let raw = root[key] else { return [] }
            guard let table = raw as? [String: Any] else { throw invalid("'\(key)' must be an object keyed by name") }
            guard table.count <= maximumObjectsOfAKind else { throw invalid("'\(key)': at most \(maximumObjectsOfAKind)") }
            var result: [(String, [String: Any])] = []
            for name in table.keys.sorted() {
                guard name.utf8.count <= Manifest.maximumTaskNameLength, Manifest.isIdentifier(name, allowDash: false),
                      !reservedNames.contains(name) else {
                    throw invalid("'\(key)': '\(KeelError.excerpt(name))' must be a Swift name of 1-\(Manifest.maximumTaskNameLength) letters, digits or '_' (it becomes a constant of the application)")
                }
                guard names.insert(name).inserted else { throw invalid("two kernel objects are called '\(name)'") }
                guard let object = table[name] as? [String: Any] else { throw invalid("'\(key)'.'\(name)' must be an object") }
                result.append((name, object))
            }
            return result
        }
        func unknownKey(_ object: [String: Any], _ known: Set<String>, _ path: String) throws(KeelError) {
            if let unknown = object.keys.filter({ !known.contains($0) }).sorted().first {
                throw invalid("\(path): unknown key '\(KeelError.excerpt(unknown))' (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        for (name, object) in try entries("queues") {
            let path = "'queues'.'\(name)'"
            try unknownKey(object, ["element", "capacity", "element_bytes"], path)
            guard let element = object["element"] as? String, !element.isEmpty, element.utf8.count <= Manifest.maximumEntryLength,
                  element.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.<>, ".unicodeScalars.contains($0)) }) else {
                throw invalid("\(path): 'element' must name a Swift type, such as \"UInt32\" or \"Sample\"")
            }
            guard object["capacity"] != nil else { throw invalid("\(path): 'capacity' is missing (the most elements it holds)") }
            let capacity = try Manifest.integer(object, "capacity", default: 1, in: 1...maximumQueueCapacity) { invalid("\(path): \($0)") }
            let stride: Int
            if object["element_bytes"] != nil {
                stride = try Manifest.integer(object, "element_bytes", default: 4, in: 1...4096) { invalid("\(path): \($0)") }
            } else if let known = knownStrides[element] {
                stride = known
            } else {
                throw invalid("\(path): Keel does not know the size of '\(KeelError.excerpt(element))'; add \"element_bytes\": MemoryLayout<\(KeelError.excerpt(element))>.stride")
            }
            let queue = QueueSpec(name: name, element: element, capacity: capacity, elementBytes: stride)
            guard queue.bytes <= maximumQueueBytes else {
                throw invalid("\(path): \(capacity) × \(stride) bytes is \(queue.bytes) bytes; a queue holds at most \(maximumQueueBytes)")
            }
            objects.queues.append(queue)
        }
        for (name, object) in try entries("semaphores") {
            let path = "'semaphores'.'\(name)'"
            try unknownKey(object, ["initial", "max"], path)
            let maximum = try Manifest.integer(object, "max", default: maximumSemaphoreCount, in: 1...maximumSemaphoreCount) { invalid("\(path): \($0)") }
            let initial = try Manifest.integer(object, "initial", default: 0, in: 0...maximum) { invalid("\(path): \($0) (at most its 'max')") }
            objects.semaphores.append(SemaphoreSpec(name: name, initial: initial, maximum: maximum))
        }
        for (name, object) in try entries("mutexes") {
            let path = "'mutexes'.'\(name)'"
            try unknownKey(object, ["priority_inheritance"], path)
            let inherits = try Manifest.boolean(object, "priority_inheritance", default: true) { invalid("\(path): \($0)") }
            objects.mutexes.append(MutexSpec(name: name, inheritsPriority: inherits))
        }
        for (name, object) in try entries("pools") {
            let path = "'pools'.'\(name)'"
            try unknownKey(object, ["block", "count"], path)
            guard object["block"] != nil else { throw invalid("\(path): 'block' is missing (the bytes of one block)") }
            guard object["count"] != nil else { throw invalid("\(path): 'count' is missing (how many blocks)") }
            let block = try Manifest.integer(object, "block", default: 8, in: 4...maximumPoolBlockBytes) { invalid("\(path): \($0)") }
            let count = try Manifest.integer(object, "count", default: 1, in: 1...maximumPoolBlocks) { invalid("\(path): \($0)") }
            objects.pools.append(PoolSpec(name: name, blockBytes: block, count: count))
        }
        for (name, object) in try entries("event_flags") {
            let path = "'event_flags'.'\(name)'"
            try unknownKey(object, ["initial"], path)
            let initial = try Manifest.integer(object, "initial", default: 0, in: 0...Int(UInt32.max)) { invalid("\(path): \($0)") }
            objects.eventFlags.append(EventFlagsSpec(name: name, initial: UInt32(initial)))
        }
        for (name, object) in try entries("timers") {
            let path = "'timers'.'\(name)'"
            try unknownKey(object, ["callback", "period_ms", "after_ms", "start"], path)
            guard let callback = object["callback"] as? String, Manifest.isIdentifier(callback, allowDash: false),
                  callback.utf8.count <= Manifest.maximumEntryLength else {
                throw invalid("\(path): 'callback' must name a Swift function of the application that takes nothing, such as \"blinkExpired\"")
            }
            guard (object["period_ms"] == nil) != (object["after_ms"] == nil) else {
                throw invalid("\(path): give 'period_ms' (a periodic timer) or 'after_ms' (a one-shot), one of the two")
            }
            let key = object["period_ms"] != nil ? "period_ms" : "after_ms"
            let milliseconds = try Manifest.integer(object, key, default: 1, in: 1...86_400_000) { invalid("\(path): \($0)") }
            let starts = try Manifest.boolean(object, "start", default: false) { invalid("\(path): \($0)") }
            objects.timers.append(TimerSpec(name: name, callback: callback, milliseconds: milliseconds, periodic: key == "period_ms", startsAtBoot: starts))
        }
        guard objects.timers.count <= maximumTimers else { throw invalid("'timers': at most \(maximumTimers)") }
        for (name, object) in try entries("stream_buffers") {
            let path = "'stream_buffers'.'\(name)'"
            try unknownKey(object, ["bytes", "trigger"], path)
            guard object["bytes"] != nil else { throw invalid("\(path): 'bytes' is missing (the most bytes it holds)") }
            let capacity = try Manifest.integer(object, "bytes", default: 1, in: 1...maximumQueueBytes) { invalid("\(path): \($0)") }
            let trigger = try Manifest.integer(object, "trigger", default: 1, in: 1...capacity) { invalid("\(path): \($0) (at most its 'bytes')") }
            objects.streamBuffers.append(StreamBufferSpec(name: name, capacity: capacity, trigger: trigger))
        }
        return objects
    }

    /// Names the generated code uses itself.
    static let reservedNames: Set<String> = ["Tasks", "Keel", "Queue", "Semaphore", "Mutex", "MemoryPool", "EventFlags", "SoftwareTimer", "StreamBuffer", "Timeout", "TimedOut", "TaskHandle", "Log"]
}
