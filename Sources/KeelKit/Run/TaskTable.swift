// TaskTable: the tasks of a running Keel image, read from its memory (`keel top`, and what
// `keel run --timeout` shows when a firmware never ends).
//
// Why no debug info: the image carries its own map. The kernel's `keel_debug_layout`
// (Firmware/Kernel/DebugLayout.swift) holds the offsets of the fields shown here, checked
// against the compiler's layout at boot, and lies in flash, so it is read from the ELF's bytes,
// as are the task names (StaticStrings in .rodata). Only RAM is read from the target: the
// scheduler's running task and task table (at offsets the table gives), the task control blocks, the
// per-task histories and the stacks, whose untouched paint gives each high-water mark exactly
// as `StackPainting.highWaterMark` counts it on the target.

import Foundation
@_spi(Build) @_spi(Contract) import KeelContract

/// The kernel's `keel_debug_layout`: where the fields a debugger shows lie in a task control
/// block and in a task history (the words in order, after the magic and the version).
public struct KernelDebugLayout: Sendable, Equatable {
    /// "KEEL" as a little-endian word.
    public static let magic: UInt32 = 0x4C45_454B
    public static let version: UInt32 = 4
    public static let wordCount = 21

    public var taskStride: UInt32
    public var savedStackPointer: UInt32
    public var state: UInt32
    public var priority: UInt32
    public var protections: UInt32
    public var stackBottom: UInt32
    public var stackTop: UInt32
    /// A StaticString: its pointer word, then its byte count.
    public var name: UInt32
    public var waitingOn: UInt32
    public var historyStride: UInt32
    public var historyHighWater: UInt32
    public var historyFaults: UInt32
    /// The tick the task's current wait began (version 2).
    public var waitStart: UInt32
    /// In a task history: the bytes below the stack its overflows could reach (a word), how many
    /// overflows it had and 1 + the index of the task whose overflow harmed it (bytes; version 3).
    public var historyOverflowBytes: UInt32
    public var historyOverflows: UInt32
    public var historyHarmedBy: UInt32
    /// In `keel_scheduler`: the running task's pointer and the task table's (version 4; the
    /// rank table comes first except on ARMv6-M).
    public var schedulerCurrent: UInt32
    public var schedulerTasks: UInt32
    /// In `keel_scheduler`: the mask of the tasks waiting for a notification (version 4).
    public var schedulerNotificationWaiters: UInt32

    /// Decodes the table's 21 words; a wrong magic, version or an offset outside its block is bad input.
    public init(words: [UInt32]) throws(KeelError) {
        guard words.count == Self.wordCount, words[0] == Self.magic else {
            throw .elf("keel_debug_layout does not start with \"KEEL\": not a Keel kernel's debug table")
        }
        guard words[1] == Self.version else {
            throw .elf("keel_debug_layout has version \(words[1]); this keel reads version \(Self.version) (use the keel that built the image)")
        }
        (taskStride, savedStackPointer, state, priority, protections, stackBottom, stackTop, name, waitingOn,
         historyStride, historyHighWater, historyFaults, waitStart, historyOverflowBytes, historyOverflows, historyHarmedBy,
         schedulerCurrent, schedulerTasks, schedulerNotificationWaiters) =
            (words[2], words[3], words[4], words[5], words[6], words[7], words[8], words[9], words[10], words[11], words[12], words[13],
             words[14], words[15], words[16], words[17], words[18], words[19], words[20])
        let taskFields = [savedStackPointer + 4, state + 1, priority + 1, protections + 1, stackBottom + 4, stackTop + 4, name + 8, waitingOn + 4,
                          waitStart + 4]
        guard taskStride >= 16, taskStride <= 4096, taskFields.allSatisfy({ $0 <= taskStride }),
              historyStride <= 4096, historyHighWater + 4 <= historyStride, historyFaults + 1 <= historyStride,
              historyOverflowBytes + 4 <= historyStride, historyOverflows + 1 <= historyStride, historyHarmedBy + 1 <= historyStride,
              schedulerCurrent <= 4096, schedulerTasks <= 4096, schedulerNotificationWaiters <= 4096 else {
            throw .elf("keel_debug_layout has an offset outside its block (task stride \(taskStride), history stride \(historyStride))")
        }
    }
}

/// What an image says about its tasks, read once from its ELF file.
public struct TaskTableImage: Sendable {
    public static let schedulerSymbol = "keel_scheduler"
    public static let layoutSymbol = "keel_debug_layout"
    /// Part of the generated histories global's (mangled) symbol.
    public static let historiesSymbol = "keelTaskHistories"
    /// The word a stack is painted with: the kernel's (Contract/ProtectionBits.swift).
    public static let paintWord: UInt32 = stackPaintWord
    /// The scheduler's masks are 32-bit: no image has more tasks, idle included.
    public static let maximumTasks = 32

    public var layout: KernelDebugLayout
    /// `keel_scheduler`: the running task and the task table at the layout's offsets.
    public var scheduler: UInt32
    /// The histories array (indexed like the task table); nil when the image has none.
    public var histories: UInt32?
    /// The handler stack (`keel_msp_bottom` ..< `keel_msp_top`); nil when the symbols are missing.
    public var handlerStack: Range<UInt32>?
    /// Tasks in the table, idle included, when the manifest says; otherwise found by walking to idle.
    public var taskCount: Int?
    /// What a waiting task may wait on, by the address of the object's waiters mask.
    public var waitObjects: [UInt32: WaitObject] = [:]
    /// The kernel's tick count (`keel_tick_count`); nil in an image without the symbol.
    public var tickCounter: UInt32?
    /// The image's read-only loaded bytes by address (names and the debug table are there).
    var constants: [(address: UInt32, bytes: [UInt8])]
    /// The image's build ID and where it lies; the target must hold the same there (nil: an
    /// image without one, read unchecked).
    public var identity: (address: UInt32, value: BuildIdentity)? = nil
    /// The ELF's path, for the message that refuses a target running another build.
    public var path = "the ELF"

    /// `objects`: the manifest's kernel objects, to name the mutexes and semaphores a task waits on.
    public init(contentsOf url: URL, taskCount: Int? = nil, objects: KernelObjects? = nil) throws(KeelError) {
        let elf: ELFFile
        do { elf = try ELFFile(contentsOf: url) } catch { throw .elf(error.description) }
        try self.init(elf: elf, taskCount: taskCount, objects: objects)
        path = url.path
    }

    public init(elf: ELFFile, taskCount: Int? = nil, objects: KernelObjects? = nil) throws(KeelError) {
        var constants: [(address: UInt32, bytes: [UInt8])] = []
        for section in elf.sections where section.flags.contains(.alloc) && !section.flags.contains(.write)
            && section.hasFileContents && section.size > 0 {
            if let bytes = try? elf.contents(of: section) { constants.append((section.address, Array(bytes))) }
        }
        guard let layoutAddress = elf.address(ofSymbol: Self.layoutSymbol) else {
            throw .elf("no \(Self.layoutSymbol) symbol: not a Keel image, or built by a kernel without the debug table")
        }
        guard let scheduler = elf.address(ofSymbol: Self.schedulerSymbol) else {
            throw .elf("no \(Self.schedulerSymbol) symbol: not a Keel image")
        }
        guard let words = Self.words(in: constants, at: layoutAddress, count: KernelDebugLayout.wordCount) else {
            throw .elf("\(Self.layoutSymbol) is not in the image's read-only data")
        }
        let layout = try KernelDebugLayout(words: words)
        // The global itself: an object whose size is whole histories (not its once-token or initialiser).
        let histories = elf.symbols.filter {
            $0.isDefined && $0.type == .object && $0.name.contains(Self.historiesSymbol)
                && $0.size >= layout.historyStride && layout.historyStride > 0 && $0.size % layout.historyStride == 0
        }.max { $0.size < $1.size }
        var handlerStack: Range<UInt32>? = nil
        if let bottom = elf.symbol(named: "keel_msp_bottom")?.value, let top = elf.symbol(named: "keel_msp_top")?.value, bottom < top {
            handlerStack = bottom..<top
        }
        self.init(layout: layout, scheduler: scheduler, histories: histories?.address, handlerStack: handlerStack,
                  taskCount: taskCount, constants: constants)
        waitObjects = WaitObjects.map(elf, objects: objects, notificationWaiters: scheduler &+ layout.schedulerNotificationWaiters)
        tickCounter = elf.address(ofSymbol: WaitObjects.tickSymbol)
        if let address = elf.address(ofSymbol: BuildIdentity.symbol), let value = BuildIdentity(elf: elf) {
            identity = (address, value)
        }
    }

    /// An image described directly (tests).
    public init(layout: KernelDebugLayout, scheduler: UInt32, histories: UInt32?, handlerStack: Range<UInt32>?,
                taskCount: Int?, constants: [(address: UInt32, bytes: [UInt8])] = []) {
        self.layout = layout
        self.scheduler = scheduler
        self.histories = histories
        self.handlerStack = handlerStack
        self.taskCount = taskCount
        self.constants = constants
    }

    /// `count` bytes at `address` when the image holds them all.
    func constantBytes(at address: UInt32, count: Int) -> [UInt8]? {
        Self.bytes(in: constants, at: address, count: count)
    }

    static func bytes(in regions: [(address: UInt32, bytes: [UInt8])], at address: UInt32, count: Int) -> [UInt8]? {
        for region in regions where address >= region.address {
            let offset = Int(address - region.address)
            if offset <= region.bytes.count && count <= region.bytes.count - offset {
                return Array(region.bytes[offset..<(offset + count)])
            }
        }
        return nil
    }

    static func words(in regions: [(address: UInt32, bytes: [UInt8])], at address: UInt32, count: Int) -> [UInt32]? {
        bytes(in: regions, at: address, count: count * 4).map { bytes in
            stride(from: 0, to: bytes.count, by: 4).map { TargetWords.word(bytes, at: $0) }
        }
    }
}

/// One task as the table shows it.
public struct TaskRow: Sendable, Equatable, Codable {
    public var name: String
    /// running (on the CPU now), ready, sleeping, blocked, waiting (on a kernel object), exited, killed.
    public var state: String
    public var priority: Int
    public var stackBottom: UInt32
    public var stackTop: UInt32
    public var size: Int { Int(stackTop &- stackBottom) }
    /// Bytes from the stack pointer to the top now; nil when the pointer is outside the stack.
    public var usedNow: Int?
    /// The most the stack was ever used (the paint, or the history kept across a repaint); nil when the stack is not painted.
    public var highWater: Int?
    public var protection: [String]
    public var faults: Int
    /// What a waiting task waits on: "mutex 'bus' held by 'low'", "semaphore 'ready'",
    /// "queue 'samples' (to receive)", "a notification" (nil when it does not wait).
    public var waitingFor: String? = nil
    /// The tick its wait began.
    public var waitingSince: UInt32? = nil
    /// Its own overflows so far, whatever caught them, and the most bytes below its stack one
    /// could reach (the kernel's task history, as the run's stack table shows it).
    public var overflows: Int = 0
    public var overflowBytes: Int = 0
    /// The task whose overflow harmed this one (it was stopped for it).
    public var harmedBy: String? = nil

    public init(name: String, state: String, priority: Int, stackBottom: UInt32, stackTop: UInt32, usedNow: Int?,
                highWater: Int?, protection: [String], faults: Int, waitingFor: String? = nil, waitingSince: UInt32? = nil) {
        self.name = name; self.state = state; self.priority = priority; self.stackBottom = stackBottom; self.stackTop = stackTop
        self.usedNow = usedNow; self.highWater = highWater; self.protection = protection; self.faults = faults
        self.waitingFor = waitingFor; self.waitingSince = waitingSince
    }

    enum CodingKeys: String, CodingKey {
        case name, state, priority, size, protection, faults
        case stackBottom = "stack_bottom", stackTop = "stack_top", usedNow = "used_now", highWater = "high_water"
        case waitingFor = "waiting_for", waitingSince = "waiting_since"
        case overflows, overflowBytes = "overflow_bytes", harmedBy = "harmed_by"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(state, forKey: .state)
        try container.encode(priority, forKey: .priority)
        try container.encode(size, forKey: .size)
        try container.encode(hex(stackBottom), forKey: .stackBottom)
        try container.encode(hex(stackTop), forKey: .stackTop)
        try container.encodeIfPresent(usedNow, forKey: .usedNow)
        try container.encodeIfPresent(highWater, forKey: .highWater)
        try container.encode(protection, forKey: .protection)
        try container.encode(faults, forKey: .faults)
        try container.encodeIfPresent(waitingFor, forKey: .waitingFor)
        try container.encodeIfPresent(waitingSince, forKey: .waitingSince)
        if overflows > 0 {
            try container.encode(overflows, forKey: .overflows)
            try container.encode(overflowBytes, forKey: .overflowBytes)
        }
        try container.encodeIfPresent(harmedBy, forKey: .harmedBy)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func address(_ key: CodingKeys) throws -> UInt32 {
            UInt32(try container.decode(String.self, forKey: key).dropFirst(2), radix: 16) ?? 0
        }
        self.init(name: try container.decode(String.self, forKey: .name), state: try container.decode(String.self, forKey: .state),
                  priority: try container.decode(Int.self, forKey: .priority), stackBottom: try address(.stackBottom),
                  stackTop: try address(.stackTop), usedNow: try container.decodeIfPresent(Int.self, forKey: .usedNow),
                  highWater: try container.decodeIfPresent(Int.self, forKey: .highWater),
                  protection: try container.decode([String].self, forKey: .protection), faults: try container.decode(Int.self, forKey: .faults),
                  waitingFor: try container.decodeIfPresent(String.self, forKey: .waitingFor),
                  waitingSince: try container.decodeIfPresent(UInt32.self, forKey: .waitingSince))
        overflows = try container.decodeIfPresent(Int.self, forKey: .overflows) ?? 0
        overflowBytes = try container.decodeIfPresent(Int.self, forKey: .overflowBytes) ?? 0
        harmedBy = try container.decodeIfPresent(String.self, forKey: .harmedBy)
    }
}

/// The handler stack's row: shared by the kernel and every interrupt handler.
public struct HandlerStackRow: Sendable, Equatable, Codable {
    public var size: Int
    public var highWater: Int

    enum CodingKeys: String, CodingKey { case size, highWater = "high_water" }
}

/// Every task of a running image, most urgent first and idle last, and the handler stack.
public struct TaskTable: Sendable, Equatable, Codable {
    public var tasks: [TaskRow]
    public var handler: HandlerStackRow?
    /// The task on the CPU when the target was halted.
    public var running: String?
    /// The kernel's tick count when the target was halted (nil when the image does not say).
    public var tick: UInt32? = nil

    /// The task called `name`.
    public subscript(name: String) -> TaskRow? { tasks.first { $0.name == name } }

    /// Reads the table from `memory`. `stackPointer` is the halted core's SP: the running
    /// task's "used now" when it lies in that task's stack (in a handler it is the handler
    /// stack's, and the task's saved SP is used instead).
    public static func read(_ image: TaskTableImage, from memory: inout some TargetMemory,
                            stackPointer: UInt32? = nil) throws(KeelError) -> TaskTable {
        // Offsets and names come from the image: read with another build's, the table is garbage.
        if let identity = image.identity {
            let running = BuildIdentity(bytes: try memory.read(identity.address, count: BuildIdentity.byteCount))
            try BuildIdentity.check(booted: running, image: identity.value, elf: URL(fileURLWithPath: image.path), source: "the target runs")
        }
        let layout = image.layout
        let stride = Int(layout.taskStride)
        let current = TargetWords.word(try memory.read(image.scheduler &+ layout.schedulerCurrent, count: 4), at: 0)
        let first = TargetWords.word(try memory.read(image.scheduler &+ layout.schedulerTasks, count: 4), at: 0)
        guard first != 0 else {
            throw .debugTarget("the kernel has not started its tasks yet (keel_scheduler has no task table); let it run a moment")
        }
        // The blocks, and the index of idle (the last).
        var blocks: [[UInt8]] = []
        if let count = image.taskCount {
            guard count >= 1, count <= TaskTableImage.maximumTasks else {
                throw .debugTarget("a task count of \(count) cannot be right (1 to \(TaskTableImage.maximumTasks), idle included)")
            }
            let all = try memory.read(first, count: count * stride)
            blocks = (0..<count).map { Array(all[($0 * stride)..<(($0 + 1) * stride)]) }
            let last = try name(of: blocks[count - 1], image: image, memory: &memory)
            guard last == "idle" else {
                throw .debugTarget("task \(count) of the image's table is '\(KeelError.excerpt(last))', not idle: "
                    + "the manifest does not describe this image (give the --app it was built from, or none)")
            }
        } else {
            while true {
                guard blocks.count < TaskTableImage.maximumTasks else {
                    throw .debugTarget("no idle task among the first \(TaskTableImage.maximumTasks) task control blocks: "
                        + "the memory read is not a Keel task table (a different image is running?)")
                }
                let block = try memory.read(first &+ UInt32(blocks.count * stride), count: stride)
                blocks.append(block)
                if try name(of: block, image: image, memory: &memory) == "idle" { break }
            }
        }
        var histories: [[UInt8]] = []
        if let address = image.histories {
            let historyStride = Int(layout.historyStride)
            let all = try memory.read(address, count: blocks.count * historyStride)
            histories = (0..<blocks.count).map { Array(all[($0 * historyStride)..<(($0 + 1) * historyStride)]) }
        }
        var rows: [TaskRow] = []
        var running: String? = nil
        var names: [String] = []
        for block in blocks { names.append(try name(of: block, image: image, memory: &memory)) }
        for (index, block) in blocks.enumerated() {
            func word(_ offset: UInt32) -> UInt32 { TargetWords.word(block, at: Int(offset)) }
            let name = names[index]
            let bottom = word(layout.stackBottom), top = word(layout.stackTop)
            let protections = block[Int(layout.protections)]
            let isCurrent = first &+ UInt32(index * stride) == current
            if isCurrent { running = name }
            var pointer = word(layout.savedStackPointer)
            if isCurrent, let stackPointer, (bottom...top).contains(stackPointer) { pointer = stackPointer }
            let rawState = block[Int(layout.state)]
            var state = Self.stateNames[Int(rawState)] ?? "state \(rawState)"
            let isLive = rawState <= 2
            if isLive && word(layout.waitingOn) != 0 { state = "waiting" }
            if isCurrent && isLive { state = "running" }
            var history = (highWater: UInt32(0), faults: 0, overflowBytes: UInt32(0), overflows: 0, harmedBy: 0)
            if index < histories.count {
                let bytes = histories[index]
                history = (TargetWords.word(bytes, at: Int(layout.historyHighWater)), Int(bytes[Int(layout.historyFaults)]),
                           TargetWords.word(bytes, at: Int(layout.historyOverflowBytes)), Int(bytes[Int(layout.historyOverflows)]),
                           Int(bytes[Int(layout.historyHarmedBy)]))
            }
            var highWater: Int? = nil
            if protections & Self.painting != 0, bottom < top {
                highWater = Int(max(try Self.highWaterMark(bottom..<top, memory: &memory), history.highWater))
            }
            let usedNow = isLive && bottom <= pointer && pointer <= top ? Int(top - pointer) : nil
            var row = TaskRow(name: name, state: state, priority: Int(block[Int(layout.priority)]), stackBottom: bottom,
                              stackTop: top, usedNow: usedNow, highWater: highWater,
                              protection: Self.protectionNames(protections), faults: history.faults)
            row.overflows = history.overflows
            row.overflowBytes = Int(history.overflowBytes)
            if history.harmedBy > 0 && history.harmedBy <= names.count { row.harmedBy = names[history.harmedBy - 1] }
            let waitingOn = word(layout.waitingOn)
            if isLive && waitingOn != 0 {
                row.waitingFor = try waitDescription(waitingOn, image: image, taskNames: names, memory: &memory)
                row.waitingSince = word(layout.waitStart)
            }
            rows.append(row)
        }
        var handler: HandlerStackRow? = nil
        if let stack = image.handlerStack {
            handler = HandlerStackRow(size: Int(stack.upperBound - stack.lowerBound),
                                      highWater: Int(try Self.highWaterMark(stack, memory: &memory)))
        }
        var table = TaskTable(tasks: rows, handler: handler, running: running)
        if let counter = image.tickCounter { table.tick = TargetWords.word(try memory.read(counter, count: 4), at: 0) }
        return table
    }

    /// What the waiters mask at `address` belongs to; for a mutex, with its holder (the task
    /// index + 1 in the byte after the mask, read now).
    static func waitDescription(_ address: UInt32, image: TaskTableImage, taskNames: [String],
                                memory: inout some TargetMemory) throws(KeelError) -> String {
        guard let object = image.waitObjects[address] else { return "the object at \(hex(address))" }
        guard object.kind == .mutex else { return object.description }
        let holder = Int(try memory.read(address + 4, count: 1)[0])
        if holder == 0 { return object.description + ", free" }
        return object.description + " held by '\(holder <= taskNames.count ? taskNames[holder - 1] : "task \(holder - 1)")'"
    }

    /// Bytes of `stack` ever written: its size minus the untouched paint at its bottom, read
    /// upward in chunks until the first word that is not the paint (StackPainting.highWaterMark).
    static func highWaterMark(_ stack: Range<UInt32>, memory: inout some TargetMemory) throws(KeelError) -> UInt32 {
        var address = stack.lowerBound
        while address < stack.upperBound {
            let count = Int(min(UInt32(GDBRemote.memoryChunk), stack.upperBound - address)) & ~3
            guard count > 0 else { break }
            let bytes = try memory.read(address, count: count)
            for offset in Swift.stride(from: 0, to: count, by: 4) {
                if TargetWords.word(bytes, at: offset) != TaskTableImage.paintWord { return stack.upperBound - (address + UInt32(offset)) }
            }
            address += UInt32(count)
        }
        return 0
    }

    /// The task's name: its StaticString's bytes, from the image (or the target if not there).
    static func name(of block: [UInt8], image: TaskTableImage, memory: inout some TargetMemory) throws(KeelError) -> String {
        let pointer = TargetWords.word(block, at: Int(image.layout.name))
        let count = Int(TargetWords.word(block, at: Int(image.layout.name) + 4))
        guard count > 0 else { return "" }
        guard count <= 64 else { return "?" }
        let bytes: [UInt8]
        if let constant = image.constantBytes(at: pointer, count: count) { bytes = constant } else { bytes = try memory.read(pointer, count: count) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `TaskState` (the kernel's, Contract/TaskState.swift) by raw value.
    static let stateNames: [Int: String] = Dictionary(uniqueKeysWithValues: TaskState.allCases.map { (Int($0.rawValue), "\($0.reportName)") })

    /// The protections byte's bits (the kernel's, Contract/ProtectionBits.swift).
    static let painting: UInt8 = Protections.painting.rawValue
    static let protectionBits: [(bit: UInt8, name: String)] = {
        var bits: [(bit: UInt8, name: String)] = []
        var index = 0
        while let (protection, name) = Protections.named(index) {
            bits.append((protection.rawValue, "\(name)"))
            index += 1
        }
        return bits
    }()

    /// The names of the bits set, in the order the run's stack table writes them.
    static func protectionNames(_ byte: UInt8) -> [String] {
        protectionBits.filter { byte & $0.bit != 0 }.map(\.name)
    }
}

extension TaskTable {
    /// Halts the target when it runs, reads the table and lets it run again (a halted target
    /// stays halted).
    public static func snapshot(_ image: TaskTableImage, through target: GDBRemote) throws(KeelError) -> TaskTable {
        let wasRunning = target.isRunning
        try target.halt()
        let stackPointer = try? target.register(13)
        // QEMU keeps its physical-memory mode across sessions: one that ended inside a
        // fallback read (DebugMemory) must not leave it on for this one.
        let reset = try target.request("Qqemu.PhyMemMode:0")
        var memory = DebugMemory(target: target, hasPhysicalMode: reset == "OK")
        let result: Result<TaskTable, KeelError>
        do { result = .success(try read(image, from: &memory, stackPointer: stackPointer)) } catch { result = .failure(error) }
        if wasRunning { try target.resume() }
        switch result {
        case .success(let table): return table
        case .failure(let error): throw error
        }
    }
}

/// A halted target's memory as the table reader needs it: all of it, whatever the MPU says.
///
/// A real part's debug port reads memory past the MPU, but QEMU's debug accesses go through
/// it with the core's current permissions, so with T2 on PMSAv7 (mps2-an385) another task's
/// stack is refused. A refused read is made again in QEMU's physical-memory mode
/// (`Qqemu.PhyMemMode:1`, which bypasses the MPU; switched off right after, as it outlives the
/// session) or, on a stub without it, with MPU_CTRL's enable bit cleared and then restored
/// (QEMU 7.2 ignores a debugger's writes to system registers, hence the first way). On
/// PMSAv8 (mps2-an505) a guard is read-only rather than no-access, so nothing is refused; its
/// physical mode would read the Secure memory as zeros, which is why it is never the first try.
struct DebugMemory: TargetMemory {
    /// The System Control Block's MPU_CTRL (ARMv7-M B3.5.6, ARMv8-M D1.2.137); bit 0 enables the MPU.
    static let mpuControl: UInt32 = 0xE000_ED94

    let target: GDBRemote
    /// False once the stub has said it has no physical-memory mode.
    var hasPhysicalMode = true

    mutating func read(_ address: UInt32, count: Int) throws(KeelError) -> [UInt8] {
        if let bytes = try target.readIfAllowed(address, count: count) { return bytes }
        if hasPhysicalMode {
            if try target.request("Qqemu.PhyMemMode:1") == "OK" {
                let bytes = Result { () throws(KeelError) in try target.readIfAllowed(address, count: count) }
                try target.request("Qqemu.PhyMemMode:0")
                if case .success(let read?) = bytes { return read }
            } else {
                hasPhysicalMode = false
            }
        }
        if let word = try target.readIfAllowed(Self.mpuControl, count: 4).map({ TargetWords.word($0, at: 0) }), word & 1 != 0 {
            try target.write(Self.mpuControl, bytes: Self.bytes(word & ~1))
            let switchedOff = try target.readIfAllowed(Self.mpuControl, count: 4).map { TargetWords.word($0, at: 0) & 1 == 0 } ?? false
            let bytes = switchedOff ? Result { () throws(KeelError) in try target.readIfAllowed(address, count: count) } : .success(nil)
            try target.write(Self.mpuControl, bytes: Self.bytes(word))
            if case .success(let read?) = bytes { return read }
        }
        throw target.refusedRead(address, count: count)
    }

    static func bytes(_ word: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
}
