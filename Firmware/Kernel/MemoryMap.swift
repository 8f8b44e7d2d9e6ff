// What a RAM address belongs to: a task's stack or guard, the handler stack, the pool, data.
//
// After an overflow the kernel must say what the overflow hit and whose memory lies in what
// it wrote, so that a neighbour is told why it was stopped instead of being blamed for a
// fault that was not its own. The map is built from what the kernel already has: the task
// control blocks (every stack and guard) and the linker script's symbols (RAM, handler
// stack and its guard, segment pool, data, reset record). Nothing is stored for it.

@_extern(c, "keel_ram_start") func ramStartSymbol()
@_extern(c, "keel_ram_end") func ramEndSymbol()
@_extern(c, "keel_msp_guard") func mainStackGuardSymbol()

/// The owner of one address, as the fault records name it (`hit=`).
enum MemoryOwner {
    /// Nothing outside the faulting task's own stack was involved.
    case none
    case stack(TaskPointer)
    /// The no-access MPU guard (T3) below a task's stack.
    case guardRegion(TaskPointer)
    case handlerStack
    /// The no-access MPU guard below the handler stack (PMSAv7).
    case handlerGuard
    case segmentPool
    /// .data, .bss and the heap: the kernel's and the application's variables.
    case data
    case resetRecord
    /// RAM no stack, guard or section uses (padding, alignment gaps).
    case gap
    case outsideRAM

    /// The record's value: a word, then the task's name for stacks and guards.
    var kindName: StaticString {
        switch self {
        case .none: "none"
        case .stack: "stack"
        case .guardRegion: "guard"
        case .handlerStack: "handler-stack"
        case .handlerGuard: "handler-guard"
        case .segmentPool: "segment-pool"
        case .data: "data"
        case .resetRecord: "reset-record"
        case .gap: "gap"
        case .outsideRAM: "outside-ram"
        }
    }

    /// A small number for the reset record (which keeps no pointers).
    var code: UInt8 {
        switch self {
        case .none: 0
        case .stack: 1
        case .guardRegion: 2
        case .handlerStack: 3
        case .handlerGuard: 4
        case .segmentPool: 5
        case .data: 6
        case .resetRecord: 7
        case .gap: 8
        case .outsideRAM: 9
        }
    }

    static func name(ofCode code: UInt8) -> StaticString {
        switch code {
        case 1: "stack"
        case 2: "guard"
        case 3: "handler-stack"
        case 4: "handler-guard"
        case 5: "segment-pool"
        case 6: "data"
        case 7: "reset-record"
        case 8: "gap"
        case 9: "outside-ram"
        default: "none"
        }
    }

    /// The task whose stack or guard this is.
    var task: TaskPointer? {
        switch self {
        case .stack(let task), .guardRegion(let task): task
        default: nil
        }
    }

    /// Writes ` hit=<kind>[:<task>]`.
    func writeField() {
        Console.write(" hit=")
        Console.write(kindName)
        if let task {
            Console.write(":")
            Console.write(task.pointee.name)
        }
    }
}

enum MemoryMap {
    static var ramStart: UInt32 { linkerSymbol(ramStartSymbol) }
    static var ramEnd: UInt32 { linkerSymbol(ramEndSymbol) }

    /// True when [address, address + bytes) is RAM: only then may the fault path read it
    /// (a read outside RAM faults again, and inside HardFault that locks the core up).
    static func isRAM(_ address: UInt32, bytes: UInt32) -> Bool {
        address >= ramStart && address <= ramEnd && bytes <= ramEnd &- address
    }

    static func owner(of address: UInt32) -> MemoryOwner {
        guard address >= ramStart && address < ramEnd else { return .outsideRAM }
        if let tasks = scheduler.tasks {
            for index in 0..<scheduler.taskCount {
                let task = tasks + index
                if address >= task.pointee.stackBottom && address < task.pointee.stackTop { return .stack(task) }
                if address >= task.pointee.guardBottom && address < task.pointee.stackBottom { return .guardRegion(task) }
            }
        }
        let handlerBottom = linkerSymbol(mainStackBottom)
        if address >= handlerBottom && address < linkerSymbol(mainStackTop) { return .handlerStack }
        if address >= linkerSymbol(mainStackGuardSymbol) && address < handlerBottom { return .handlerGuard }
        #if KEEL_SPLIT_STACK
        if address >= SegmentedStacks.pool.start && address &- SegmentedStacks.pool.start < SegmentedStacks.pool.totalBytes {
            return .segmentPool
        }
        #endif
        if address >= linkerSymbol(resetRecordSymbol) { return .resetRecord }
        if address >= linkerSymbol(dataStart) && address < linkerSymbol(heapEnd) { return .data }
        return .gap
    }
}
