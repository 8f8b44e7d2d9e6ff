// Mutexes with priority inheritance, robust against a holder that stops, and refusing a lock
// that would close a deadlock.
//
// Storage (two words each, all of an application's mutexes in one generated array):
//   [0] the waiters mask   [1] holder's task index + 1 (byte 0; 0 when free),
//                              1 when waiters lend the holder their priority (bit 8),
//                              the robustness state (bits 16-18, `RobustState`)
// Inheritance needs no re-sorting and no saved priorities: a task waiting on a mutex stays
// a candidate of the scheduler (a "proxy", `SchedulerState.proxies`), and when a proxy is
// the most urgent candidate, its mutex's holder runs in its place (Scheduler.pickNext). So
// the holder runs at the highest waiter's priority exactly while that waiter waits, and
// drops back the moment it releases (or the waiter times out), through chains of mutexes
// too. Unlock hands the mutex straight to the most urgent waiter.
//
// Robustness is POSIX's (`PTHREAD_MUTEX_ROBUST`): a holder that stops (exits, is killed) or
// restarts leaves the data half-updated, so the next `lock` takes the mutex and throws
// `.ownerDied` once; that caller repairs and calls `markConsistent()`, or unlocks without
// it, and then the mutex is `.notRecoverable` for the rest of the run: no one can trust it.
//
// Deadlock detection walks the wait-for chain at the one moment a cycle can close: when a
// lock is about to wait. The holder, the mutex it waits on, that one's holder, ... reaching
// the caller is a cycle (O(chain length), at most the task count, nothing allocated).

/// Why a mutex operation failed.
public enum MutexError: Error, Sendable {
    /// The timeout passed before the mutex was free.
    case timedOut
    /// The caller holds it already: a recursive lock would deadlock, so it is refused.
    case alreadyHeld
    /// `unlock` or `markConsistent` by a task that does not hold the mutex (or from an
    /// interrupt handler).
    case notHeld
    /// The previous holder stopped (exited, was killed after a fault, or restarted) while it
    /// held the mutex. The caller holds it now; what it guards may be half-updated. Repair it
    /// and call `markConsistent()` before `unlock`, or the mutex becomes `.notRecoverable`.
    /// Thrown once per stopped holder (POSIX's EOWNERDEAD).
    case ownerDied
    /// A holder that was told `.ownerDied` unlocked without `markConsistent()`: the data
    /// cannot be trusted, and every lock fails from then on (POSIX's ENOTRECOVERABLE).
    case notRecoverable
    /// Waiting would close a cycle: the holder waits (directly or through a chain of holders)
    /// for a mutex the caller holds, so no one of them could ever go on. The caller does not
    /// wait; it still holds what it held (release something and try again). The kernel prints
    /// one `keel:deadlock` record naming the tasks and mutexes of the cycle.
    case deadlock
}

extension MutexError: CustomStringConvertible {
    /// The case's name ("ownerDied"), so that `print("\(error)")` says which.
    public var description: String {
        switch self {
        case .timedOut: "timedOut"
        case .alreadyHeld: "alreadyHeld"
        case .notHeld: "notHeld"
        case .ownerDied: "ownerDied"
        case .notRecoverable: "notRecoverable"
        case .deadlock: "deadlock"
        }
    }
}

/// A mutex declared in the manifest (`"mutexes": {"name": {}}`), reached through the constant
/// of the same name `keel build` generates. Only tasks lock and unlock it.
public struct Mutex: Sendable {
    nonisolated(unsafe) let storage: UnsafeMutablePointer<UInt32>

    @_spi(Build) public init(storage: UnsafeMutableRawPointer) {
        self.storage = storage.assumingMemoryBound(to: UInt32.self)
    }

    private var waiters: UnsafeMutablePointer<UInt32> { storage }
    private var state: UnsafeMutablePointer<UInt32> { storage + 1 }

    /// Takes the mutex, waiting until it is free or `timeout` passes; meanwhile the holder
    /// runs at the caller's priority when that is higher. Throws `.alreadyHeld` when the
    /// caller holds it, `.deadlock` (without waiting) when waiting would close a cycle,
    /// `.notRecoverable` once a repair was skipped, and `.ownerDied` when the previous holder
    /// stopped while holding it: then the caller holds the mutex.
    /// Blocks: yes. From: a task. Stack: switch.
    /// (Always inlined: the free case is a few instructions, and left to the inliner it was
    /// inlined into one application and called in another, four instructions apart.)
    @inline(__always)
    public func lock(timeout: Timeout = .forever) throws(MutexError) {
        let interrupts = Interrupts.mask()
        let exception = portExceptionNumber()  // 0 in a task
        let me = currentTask.unsafelyUnwrapped.pointee.holderTag
        let word = state.pointee
        // Free and in good order, in a task: the common case, one test (the exception number
        // folded in with an OR: a Bool the compiler materialised in some inlined copies and
        // not in others), no wait set up, and none of the other cases' registers to save.
        if (word & (0xFF | RobustState.mask)) | exception == 0 {
            state.pointee = word | me
            Interrupts.restore(interrupts)
            return
        }
        try lockOtherwise(word: word, me: me, interrupts: interrupts, inHandler: exception != 0, timeout: timeout)
    }

    /// `lock` when the mutex is held, not in good order, or the caller is a handler.
    @inline(never)
    private func lockOtherwise(word: UInt32, me: UInt32, interrupts: UInt32, inHandler: Bool, timeout: Timeout) throws(MutexError) {
        defer { Interrupts.restore(interrupts) }
        if inHandler { Faults.refuseBlocking() }
        if word & RobustState.notRecoverable != 0 { throw .notRecoverable }
        if word & 0xFF == 0 { state.pointee = word | me; try Mutexes.checkOwnerDied(state); return }
        if word & 0xFF == me { throw .alreadyHeld }
        if Mutexes.closesCycle(waitingFor: Scheduler.task(Int(word & 0xFF) &- 1)) {
            RefusedCycle.keep(caller: currentTask.unsafelyUnwrapped, mutex: storage)
            throw .deadlock
        }
        var deadline = Deadline(timeout)
        let lends = word & 0x100 != 0
        while Waiting.wait(on: waiters, until: &deadline, interrupts: interrupts, lendsPriority: lends) {
            let word = state.pointee
            if word & RobustState.notRecoverable != 0 { throw .notRecoverable }
            let holder = word & 0xFF
            if holder == 0 { state.pointee = word | me; try Mutexes.checkOwnerDied(state); return }
            if holder == me { try Mutexes.checkOwnerDied(state); return }  // handed over by `unlock` while this task waited
        }
        throw .timedOut
    }

    /// Releases the mutex, handing it to the most urgent waiter (which runs now when it is
    /// more urgent than the caller). After `.ownerDied` without `markConsistent()`, the mutex
    /// becomes not recoverable instead: every waiter and every later `lock` throws
    /// `.notRecoverable`. Blocks: no. From: the task that holds it. Stack: switch.
    @inline(__always)
    public func unlock() throws(MutexError) {
        let (interrupts, inHandler) = Interrupts.maskReadingMode()
        defer { Interrupts.restore(interrupts) }
        guard !inHandler else { throw .notHeld }
        let me = currentTask.unsafelyUnwrapped.pointee.holderTag
        let word = state.pointee
        // Held by the caller and in good order (a held mutex has no robustness bit but
        // `inconsistent`): one test, as before robustness.
        if word & (0xFF | RobustState.mask) == me {
            Mutexes.release(storage)
            return
        }
        guard word & 0xFF == me else { throw .notHeld }
        Mutexes.abandonForGood(storage)  // told `.ownerDied`, did not repair
    }

    /// Says that the caller, which took the mutex with `.ownerDied`, has repaired what it
    /// guards: the mutex is in good order again. Does nothing when there was nothing to repair.
    /// Throws `.notHeld` when the caller does not hold it. Blocks: no. From: the task that
    /// holds it. Stack: leaf.
    public func markConsistent() throws(MutexError) {
        let (interrupts, inHandler) = Interrupts.maskReadingMode()
        defer { Interrupts.restore(interrupts) }
        guard !inHandler,
              state.pointee & 0xFF == currentTask.unsafelyUnwrapped.pointee.holderTag else { throw .notHeld }
        state.pointee &= ~RobustState.inconsistent
    }

    /// Runs `body` holding the mutex. When the previous holder stopped while holding it,
    /// `body` does not run on what may be half-updated: the mutex is released unrepaired
    /// (it becomes not recoverable) and `.ownerDied` is thrown. Use
    /// `withLock(timeout:repairing:_:)` to repair instead.
    /// Blocks: yes. From: a task. Stack: switch + `body`'s.
    public func withLock<Result>(timeout: Timeout = .forever, _ body: () -> Result) throws(MutexError) -> Result {
        do throws(MutexError) {
            try lock(timeout: timeout)
        } catch .ownerDied {
            try? unlock()
            throw .ownerDied
        }
        defer { try? unlock() }
        return body()
    }

    /// Runs `body` holding the mutex; when the previous holder stopped while holding it,
    /// runs `repair` first (holding it too), then marks the mutex consistent. Throws
    /// `.ownerDied` never, the other errors of `lock` as they come.
    /// Blocks: yes. From: a task. Stack: switch + the larger of `repair`'s and `body`'s.
    public func withLock<Result>(timeout: Timeout = .forever, repairing repair: () -> Void,
                                 _ body: () -> Result) throws(MutexError) -> Result {
        do throws(MutexError) {
            try lock(timeout: timeout)
        } catch .ownerDied {
            repair()
            try markConsistent()
        }
        defer { try? unlock() }
        return body()
    }

    /// The task holding the mutex now, if any. Blocks: no. From: anywhere. Stack: leaf.
    public var holder: TaskHandle? {
        let holder = Register(address: UInt(bitPattern: state)).read() & 0xFF
        return holder == 0 ? nil : TaskHandle(index: Int(holder &- 1))
    }

    /// False once an unrepaired `.ownerDied` made the mutex unusable for the rest of the run.
    /// Blocks: no. From: anywhere. Stack: leaf.
    public var isRecoverable: Bool {
        Register(address: UInt(bitPattern: state)).read() & RobustState.notRecoverable == 0
    }
}

/// The robustness bits of a mutex's second word (byte 2, so that the lock's fast path tests
/// them and the holder byte with one mask, 0x00FF00FF, an immediate on Thumb-2).
enum RobustState {
    /// The holder stopped while holding: the next taker is told `.ownerDied`.
    static let ownerDied: UInt32 = 1 << 16
    /// The holder was told `.ownerDied` and has not called `markConsistent()` yet.
    static let inconsistent: UInt32 = 1 << 17
    /// Unlocked while inconsistent: every lock fails for the rest of the run.
    static let notRecoverable: UInt32 = 1 << 18
    static let mask: UInt32 = 0xFF << 16
}

/// All of an application's mutexes (generated storage, two words each).
@_extern(c, "keel_mutex_table")
func applicationMutexTable(_ count: UnsafeMutablePointer<Int>) -> UnsafeMutableRawPointer?

enum Mutexes {
    /// The holder whose place a task waiting on a mutex lends its priority to (the task
    /// itself when the mutex is momentarily free: then it lends nothing).
    static func holder(waitedOnBy task: TaskPointer) -> TaskPointer {
        let holder = task.pointee.waitingOn.unsafelyUnwrapped[1] & 0xFF
        return holder == 0 ? task : Scheduler.task(Int(holder &- 1))
    }

    /// With interrupts masked: gives the mutex to its most urgent waiter, or frees it.
    static func release(_ storage: UnsafeMutablePointer<UInt32>) {
        let mask = storage.pointee
        if mask == 0 {
            storage[1] &= ~0xFF
            return
        }
        let next = Scheduler.task(lowestBitOf: mask)
        storage[1] = (storage[1] & ~0xFF) | next.pointee.holderTag
        Waiting.wake(next)
    }

    /// With interrupts masked, the caller holding the mutex (just taken): a holder before it
    /// stopped while holding, so the caller is told, once, and must repair.
    @inline(__always)
    static func checkOwnerDied(_ state: UnsafeMutablePointer<UInt32>) throws(MutexError) {
        let word = state.pointee
        guard word & RobustState.ownerDied != 0 else { return }
        state.pointee = (word & ~RobustState.ownerDied) | RobustState.inconsistent
        throw .ownerDied
    }

    /// With interrupts masked: the holder unlocks without repairing. The mutex is freed for
    /// good: every waiter wakes and finds it not recoverable, as does every later lock.
    static func abandonForGood(_ storage: UnsafeMutablePointer<UInt32>) {
        storage[1] = (storage[1] & ~(0xFF | RobustState.mask)) | RobustState.notRecoverable
        while storage.pointee != 0 {
            Waiting.wake(Scheduler.task(lowestBitOf: storage.pointee))  // clears its bit (`makeReady`)
        }
    }

    /// A task that stops or restarts holds nothing: each mutex it held goes to its most
    /// urgent waiter or is freed, marked so that its next taker is told `.ownerDied`.
    /// (Called from `Scheduler.stopScheduling` and the fault policy's restart.)
    static func abandon(heldBy task: TaskPointer) {
        var count = 0
        guard let table = applicationMutexTable(&count) else { return }
        let mutexes = table.assumingMemoryBound(to: UInt32.self)
        let me = task.pointee.holderTag
        for index in 0..<count where mutexes[2 &* index &+ 1] & 0xFF == me {
            let state = mutexes + (2 &* index &+ 1)
            if state.pointee & RobustState.notRecoverable == 0 {
                state.pointee = (state.pointee & ~RobustState.inconsistent) | RobustState.ownerDied
            }
            release(mutexes + 2 &* index)
        }
    }

    /// The mutex `task` waits on, when what it waits on is a mutex (a queue, a semaphore or a
    /// notification is not part of a wait-for chain of holders).
    static func mutexWaitedOn(by task: TaskPointer) -> UnsafeMutablePointer<UInt32>? {
        guard let waited = task.pointee.waitingOn else { return nil }
        var count = 0
        guard let table = applicationMutexTable(&count) else { return nil }
        let first = table.assumingMemoryBound(to: UInt32.self)
        guard waited >= first, waited < first + 2 &* count else { return nil }
        return waited
    }

    /// The next task in a wait-for chain: the holder of the mutex `task` waits on, if any.
    static func nextInChain(after task: TaskPointer) -> (mutex: UnsafeMutablePointer<UInt32>, holder: TaskPointer)? {
        guard let mutex = mutexWaitedOn(by: task) else { return nil }
        let holder = mutex[1] & 0xFF
        guard holder != 0 else { return nil }
        return (mutex, Scheduler.task(Int(holder &- 1)))
    }

    /// With interrupts masked: true when the running task, by waiting for a mutex `holder`
    /// holds, would close a cycle: `holder` waits for a mutex whose holder waits ... for one
    /// the running task holds. At most one hop per task: a chain is never longer.
    static func closesCycle(waitingFor holder: TaskPointer) -> Bool {
        let me = currentTask.unsafelyUnwrapped
        var next = holder
        for _ in 0..<scheduler.taskCount {
            if next == me { return true }
            guard let hop = nextInChain(after: next) else { return false }
            next = hop.holder
        }
        return false
    }
}
