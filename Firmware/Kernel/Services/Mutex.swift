// Mutexes with priority inheritance.
//
// Storage (two words each, all of an application's mutexes in one generated array):
//   [0] the waiters mask   [1] holder's task index + 1 (byte 0; 0 when free),
//                              1 when waiters lend the holder their priority (byte 1)
// Inheritance needs no re-sorting and no saved priorities: a task waiting on a mutex stays
// a candidate of the scheduler (a "proxy", `SchedulerState.proxies`), and when a proxy is
// the most urgent candidate, its mutex's holder runs in its place (Scheduler.pickNext). So
// the holder runs at the highest waiter's priority exactly while that waiter waits, and
// drops back the moment it releases (or the waiter times out), through chains of mutexes
// too. Unlock hands the mutex straight to the most urgent waiter.

/// Why a mutex operation failed.
public enum MutexError: Error, Sendable {
    /// The timeout passed before the mutex was free.
    case timedOut
    /// The caller holds it already: a recursive lock would deadlock, so it is refused.
    case alreadyHeld
    /// `unlock` by a task that does not hold the mutex (or from an interrupt handler).
    case notHeld
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
    /// caller holds it. Blocks: yes. From: a task. Stack: switch.
    public func lock(timeout: Timeout = .forever) throws(MutexError) {
        let (interrupts, inHandler) = Interrupts.maskReadingMode()
        defer { Interrupts.restore(interrupts) }
        if inHandler { Faults.refuseBlocking() }
        let me = UInt32(currentTask.unsafelyUnwrapped.pointee.index) &+ 1
        let word = state.pointee
        if word & 0xFF == 0 { state.pointee = word | me; return }  // free: the common case, no wait set up
        if word & 0xFF == me { throw .alreadyHeld }
        var deadline = Deadline(timeout)
        let lends = word & 0x100 != 0
        while Waiting.wait(on: waiters, until: &deadline, interrupts: interrupts, lendsPriority: lends) {
            let holder = state.pointee & 0xFF
            if holder == 0 { state.pointee |= me; return }
            if holder == me { return }  // handed over by `unlock` while this task waited
        }
        throw .timedOut
    }

    /// Releases the mutex, handing it to the most urgent waiter (which runs now when it is
    /// more urgent than the caller). Blocks: no. From: the task that holds it. Stack: switch.
    public func unlock() throws(MutexError) {
        let (interrupts, inHandler) = Interrupts.maskReadingMode()
        defer { Interrupts.restore(interrupts) }
        guard !inHandler,
              state.pointee & 0xFF == UInt32(currentTask.unsafelyUnwrapped.pointee.index) &+ 1 else { throw .notHeld }
        Mutexes.release(storage)
    }

    /// Runs `body` holding the mutex. Blocks: yes. From: a task. Stack: switch + `body`'s.
    public func withLock<Result>(timeout: Timeout = .forever, _ body: () -> Result) throws(MutexError) -> Result {
        try lock(timeout: timeout)
        defer { try? unlock() }
        return body()
    }

    /// The task holding the mutex now, if any. Blocks: no. From: anywhere. Stack: leaf.
    public var holder: TaskHandle? {
        let holder = Register(address: UInt(bitPattern: state)).read() & 0xFF
        return holder == 0 ? nil : TaskHandle(index: Int(holder &- 1))
    }
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
        storage[1] = (storage[1] & ~0xFF) | (UInt32(next.pointee.index) &+ 1)
        Waiting.wake(next)
    }

    /// A task that stops or restarts holds nothing: each mutex it held goes to its most
    /// urgent waiter (which may find what the mutex guards half-updated) or is freed.
    static func abandon(heldBy task: TaskPointer) {
        var count = 0
        guard let table = applicationMutexTable(&count) else { return }
        let mutexes = table.assumingMemoryBound(to: UInt32.self)
        let me = UInt32(task.pointee.index) &+ 1
        for index in 0..<count where mutexes[2 &* index &+ 1] & 0xFF == me {
            release(mutexes + 2 &* index)
        }
    }
}
