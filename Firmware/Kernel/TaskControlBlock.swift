// Task control block: everything the kernel knows about one task, in kernel RAM.
//
// The first ten words are read and written by the port's context switch, so their
// order is part of the port contract (see `SavedContext`). Everything after them is
// Swift-only. The callee-saved registers are kept here and not on the task's stack:
// the software half of a context save then never writes below a task's stack pointer,
// so a hardware stack limit (PSPLIM, an MPU region) sees every write the task's
// stack receives, and no check is needed on the save path.

/// What a task's stack and protections look like, fixed at build time by `keel build`.
/// (`@_spi(Build)`: the generated task table in the application's module builds these; an
/// application's own code does not see them.) Its entry function and fault policy are not
/// here: the generated `keel_task_entry` and `keel_fault_policy` give them to a start or
/// restart and to a fault (Kernel.swift).
@_spi(Build) public struct TaskDescriptor {
    var name: StaticString
    /// Larger is more urgent; see `TaskControlBlock.isMoreUrgent(than:)`.
    var priority: UInt8
    /// Lowest address of the stack (inclusive).
    var stackBottom: UInt32
    /// One past the highest address of the stack; the initial stack pointer.
    var stackTop: UInt32
    var protections: Protections
    /// Bytes at the bottom of the stack painted and checked by the software red zone (T4).
    var redZoneBytes: UInt32
    /// Lowest address of the MPU guard below the stack (T3); `stackBottom` when there is none.
    var guardBottom: UInt32
    /// The two MPU regions the switch-in loads (computed by the layout planner).
    var switchRegions: MPUSwitch

    @_spi(Build) public init(name: StaticString, priority: UInt8, stackBottom: UInt32, stackTop: UInt32,
                             protections: Protections, redZoneBytes: UInt32, guardBottom: UInt32, switchRegions: MPUSwitch) {
        self.name = name; self.priority = priority; self.stackBottom = stackBottom; self.stackTop = stackTop
        self.protections = protections; self.redZoneBytes = redZoneBytes; self.guardBottom = guardBottom
        self.switchRegions = switchRegions
    }
}

/// Two MPU regions as the port writes them, in one store from RBAR on: RBAR, RASR (PMSAv7)
/// or RLAR (PMSAv8), then the same pair through the alias registers (A1).
@_spi(Build) public struct MPUSwitch {
    var base0: UInt32, attributes0: UInt32, base1: UInt32, attributes1: UInt32
    @_spi(Build) public init(_ base0: UInt32, _ attributes0: UInt32, _ base1: UInt32, _ attributes1: UInt32) {
        self.base0 = base0; self.attributes0 = attributes0; self.base1 = base1; self.attributes1 = attributes1
    }
}

/// What to do when a task faults: the manifest's `on_fault`, with the window in ticks.
/// (The word comes first so the three bytes pack after it: the TCB must stay 128 bytes.)
@_spi(Build) public struct FaultPolicyDescriptor {
    @_spi(Build) public enum Action: UInt8 { case kill, reset, restart }
    /// 0: the window never closes (restarts count for the whole run).
    var windowTicks: UInt32 = 0
    var action = Action.kill
    /// Restarts allowed within one window before `then` applies.
    var restarts: UInt8 = 0
    var then = Action.kill

    @_spi(Build) public init(action: Action = .kill, restarts: UInt8 = 0, windowTicks: UInt32 = 0, then: Action = .kill) {
        self.action = action; self.restarts = restarts; self.windowTicks = windowTicks; self.then = then
    }
}

@_spi(Build) public typealias TaskEntry = @convention(c) () -> Void

/// The registers the port saves for a task that is not running, and the hardware state it
/// loads at switch-in. Layout is ABI: offset 0 holds the process stack pointer, 4...32 r4...r11,
/// 36 the EXC_RETURN the task's exception returns with (its bit 4 says whether the task's
/// frame is an extended, FP one): in register order, so ARMv7-M/v8-M save and load all ten
/// with one `stmia`/`ldmia` of {r1, r4-r11, lr} (r1 = PSP), and ARMv6-M the first five; 40 the
/// stack limit the port loads into PSPLIM on ARMv8-M, 44...56 the two MPU regions
/// (`MPUSwitch`) it writes to the MPU when some task uses T2 or T3, 60 the value of
/// `__STACK_LIMIT` (the split-stack prologue's limit) when the image has split code.
struct SavedContext {
    var stackPointer: UInt32 = 0
    var r4: UInt32 = 0, r5: UInt32 = 0, r6: UInt32 = 0, r7: UInt32 = 0
    var r8: UInt32 = 0, r9: UInt32 = 0, r10: UInt32 = 0, r11: UInt32 = 0
    /// Thread mode, process stack, basic frame: what a task starts with.
    var exceptionReturn: UInt32 = SavedContext.threadReturn
    var stackLimit: UInt32 = 0
    var switchRegions = MPUSwitch(0, 0, 0, 0)
    var splitLimit: UInt32 = 0

    /// EXC_RETURN for thread mode on PSP with a basic (integer) frame (0xFFFFFFFD).
    static let threadReturn: UInt32 = 0xFFFF_FFFD
}

#if KEEL_FPU
/// s16-s31, which the hardware does not stack: the switch keeps them here for a task whose
/// frame is an extended one, not on its stack, so no software write lands below its SP.
struct FloatingPointContext {
    var s16to23: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0)
    var s24to31: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0)
}
#endif


@_spi(Build) public struct TaskControlBlock {
    /// Must stay the first member: the port addresses it from the TCB pointer.
    var context = SavedContext()
    var state = TaskState.exited
    /// Its place in the table: fixed for the run (handles, histories and records use it).
    var index: UInt8 = 0
    var priority: UInt8 = 0
    var protections = Protections()
    /// The task's bit in the scheduler's masks: 1 << its rank (Ranks.swift), not its index.
    var bit: UInt32 = 0
    /// Tick at which a sleeping task becomes ready again.
    var wakeTick: UInt32 = 0
    var stackBottom: UInt32 = 0
    var stackTop: UInt32 = 0
    /// One past the T4 red zone; equal to `stackBottom` when the task has none (the check then reads nothing).
    var redZoneEnd: UInt32 = 0
    /// The lowest valid saved stack pointer for T5; 0 when the task has no T5 (never below).
    var stackCheckLimit: UInt32 = 0
    /// Bit mask of the tasks that share this task's priority (round-robin group, this one included).
    var peers: UInt32 = 0
    var name: StaticString = ""
    /// `bit` when the task has peers, 0 when it is alone at its priority: what the pick
    /// records as its turn, so a task with no one to take turns with costs no round-robin step.
    /// (The fault policy that was here is read from the generated table: `Kernel.faultPolicy`.)
    var turnBit: UInt32 = 0
    /// `index + 1`, how a mutex's state word names its holder (0: free), kept as a word so the
    /// lock and unlock fast paths load it in one instruction (`index` is a byte past offset 31,
    /// which Thumb-1's LDRB cannot reach without a register offset and an add).
    var holderTag: UInt32 = 0
    /// The tick the task's current wait on a kernel object began (`waitingOn`), for `keel top`
    /// and the timeout table; stale once it stops waiting. (The task's entry function is not
    /// kept here: only a start reads it, from the generated table, `applicationTaskEntry`.)
    var waitStart: UInt32 = 0
    /// The waiters mask of the kernel object the task is blocked on (its bit is set there);
    /// nil when it waits on nothing. Cleared by `Scheduler.makeReady` and `stop`, so a task
    /// that times out, is woken, killed or restarted never leaves a stale bit behind.
    var waitingOn: UnsafeMutablePointer<UInt32>? = nil
    /// The task's notification bits (`Keel.Task.notify`): set by others, taken by `wait`.
    var notifications: UInt32 = 0
    // The block is exactly 128 bytes, so the scheduler indexes the table with a shift, not a
    // multiply (checked in `Kernel.start`). No word is spare: a new field needs an old one to go
    // (the T3 guard's bottom went to `TaskHistory` for EXC_RETURN, the fault policy to the
    // generated table in flash for `turnBit` and `holderTag`).
    #if KEEL_FPU
    /// With an FPU the block is 256 bytes (still a shift): s16-s31 at 128, then unused words.
    var floatingPoint = FloatingPointContext()
    var unusedForStride: (FloatingPointContext) = FloatingPointContext()
    #endif

    /// Storage for the table (`keel build` generates it): every field as at reset.
    @_spi(Build) public init() {}

    var stackBytes: UInt32 { stackTop &- stackBottom }

    /// Lowest address of the T3 guard; `stackBottom` when the task has none. Kept in the
    /// task's history (only diagnosis asks), which leaves a control-block word for EXC_RETURN.
    var guardBottom: UInt32 { Containment.histories.unsafelyUnwrapped[Int(index)].guardBottom }

    var isLive: Bool { state == .ready || state == .sleeping || state == .blocked || state == .suspended }

    /// The one comparison of priorities the kernel uses.
    func isMoreUrgent(than other: TaskControlBlock) -> Bool { priority > other.priority }
}

@_spi(Build) public typealias TaskPointer = UnsafeMutablePointer<TaskControlBlock>
