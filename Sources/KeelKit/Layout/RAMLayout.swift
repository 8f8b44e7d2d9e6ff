// Where every stack goes in RAM: the handler stack at the bottom, task stacks above it.
//
// The handler (main) stack sits at the very bottom of RAM so that its own overflow runs off
// the end of RAM into unmapped memory and faults. Task stacks follow in manifest order,
// 8-byte aligned (AAPCS); directly below the first task stack is the top of the handler
// stack, which is idle whenever a task runs (interrupts from a task push their frame on the
// task's stack, and handlers start at the top of an empty MSP). Data, .bss and the heap
// take the rest. The MPU-aware planner of a later issue replaces this placement.

public struct StackPlacement: Sendable, Equatable, Codable {
    public var name: String
    public var bottom: UInt32
    public var bytes: UInt32
    public var top: UInt32 { bottom &+ bytes }
}

public struct RAMLayout: Sendable, Equatable {
    public var handlerStack: StackPlacement
    /// In the same order as the application's tasks.
    public var taskStacks: [StackPlacement]
    public var idleStack: StackPlacement
    /// First byte after every stack: .data, .bss and the heap start here.
    public var dataStart: UInt32
    public var ramEnd: UInt32

    public var stackBytes: UInt32 { dataStart &- handlerStack.bottom }
}

public enum LayoutPlanner {
    public static let idleStackBytes: UInt32 = 512
    /// What must stay free for .data, .bss and a minimal heap.
    public static let minimumDataBytes: UInt64 = 2048

    public static func plan(_ application: Application, on board: Board) throws(KeelError) -> RAMLayout {
        let requested = UInt64(application.handlerStackBytes)
            + application.tasks.reduce(UInt64(0)) { $0 + UInt64($1.stackBytes) }
            + UInt64(idleStackBytes)
        guard requested + minimumDataBytes <= UInt64(board.ram.length) else {
            throw .layoutImpossible(
                "stacks need \(requested) bytes and data at least \(minimumDataBytes), but \(board.name) has \(board.ram.length) bytes of RAM")
        }
        var cursor = board.ram.origin
        func place(_ name: String, _ bytes: Int) -> StackPlacement {
            let placement = StackPlacement(name: name, bottom: cursor, bytes: UInt32(bytes))
            cursor += UInt32(bytes)
            return placement
        }
        let handler = place("handler", application.handlerStackBytes)
        let tasks = application.tasks.map { place($0.name, $0.stackBytes) }
        let idle = place("idle", Int(idleStackBytes))
        return RAMLayout(handlerStack: handler, taskStacks: tasks, idleStack: idle, dataStart: cursor,
                         ramEnd: UInt32(board.ram.end - 1) &+ 1)
    }
}
