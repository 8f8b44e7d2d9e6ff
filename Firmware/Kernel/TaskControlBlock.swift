// Task control block: everything the kernel knows about one task, in kernel RAM.
//
// The first ten words are read and written by the port's context switch, so their
// order is part of the port contract (see `SavedContext`). Everything after them is
// Swift-only. The callee-saved registers are kept here and not on the task's stack:
// the software half of a context save then never writes below a task's stack pointer,
// so a hardware stack limit (PSPLIM, an MPU region) sees every write the task's
// stack receives, and no check is needed on the save path.

/// What a task's stack and protections look like, fixed at build time by `keel build`.
struct TaskDescriptor {
    var name: StaticString
    var entry: TaskEntry
    /// Larger is more urgent; see `TaskControlBlock.isMoreUrgent(than:)`.
    var priority: UInt8
    /// Lowest address of the stack (inclusive).
    var stackBottom: UInt32
    /// One past the highest address of the stack; the initial stack pointer.
    var stackTop: UInt32
    var protections: Protections
    /// Bytes at the bottom of the stack painted and checked by the software red zone (T4).
    var redZoneBytes: UInt32
}

typealias TaskEntry = @convention(c) () -> Void

/// The registers the port saves for a task that is not running. Layout is ABI:
/// offsets 0...28 hold r4...r11, 32 the process stack pointer, 36 the stack limit
/// the port loads into PSPLIM on ARMv8-M.
struct SavedContext {
    var r4: UInt32 = 0, r5: UInt32 = 0, r6: UInt32 = 0, r7: UInt32 = 0
    var r8: UInt32 = 0, r9: UInt32 = 0, r10: UInt32 = 0, r11: UInt32 = 0
    var stackPointer: UInt32 = 0
    var stackLimit: UInt32 = 0
}

enum TaskState: UInt8 {
    case ready
    case sleeping
    case exited
    /// Stopped by the kernel after a detected fault; never runs again.
    case killed
}

struct TaskControlBlock {
    /// Must stay the first member: the port addresses it from the TCB pointer.
    var context = SavedContext()
    var state = TaskState.exited
    var index: UInt8 = 0
    var priority: UInt8 = 0
    var protections = Protections()
    /// 1 << index: the task's bit in the scheduler's masks.
    var bit: UInt32 = 0
    /// Tick at which a sleeping task becomes ready again.
    var wakeTick: UInt32 = 0
    var stackBottom: UInt32 = 0
    var stackTop: UInt32 = 0
    /// One past the T4 red zone; equal to `stackBottom` when the task has none (the check then reads nothing).
    var redZoneEnd: UInt32 = 0
    /// The lowest valid saved stack pointer for T5; 0 when the task has no T5 (never below).
    var stackCheckLimit: UInt32 = 0
    /// Bit mask of the tasks that share this task's priority (round-robin group).
    var peers: UInt32 = 0
    var name: StaticString = ""
    var entry: TaskEntry? = nil
    /// Pads the block to 128 bytes so the scheduler indexes the table with a shift, not a
    /// multiply (checked in `Kernel.start`). Shrink this when adding a field.
    private var padding: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    var stackBytes: UInt32 { stackTop &- stackBottom }

    var isLive: Bool { state == .ready || state == .sleeping }

    /// The one comparison of priorities the kernel uses.
    func isMoreUrgent(than other: TaskControlBlock) -> Bool { priority > other.priority }
}

typealias TaskPointer = UnsafeMutablePointer<TaskControlBlock>
