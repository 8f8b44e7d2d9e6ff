// Blocking: how a task waits on a kernel object and how another task or a handler wakes it.
//
// Every kernel object keeps its waiters as a bit mask (a task's bit is its rank, most urgent
// first: Ranks.swift), so the most urgent waiter is the lowest set bit: waking
// is O(1), with no list to keep sorted. A waiting task is out of the ready mask, in its
// object's waiters, and also in `sleeping` when it has a timeout (the tick wakes it); its
// state says `.blocked` without one. Whoever makes it ready again (a waker, the tick, a
// restart) clears its bit in the object (`Scheduler.makeReady`, or `wakeOne` in place), so
// no path leaves a stale waiter behind.
//
// A woken task does not own what it waited for: it runs its call's loop again and checks.
// So a more urgent task may take an item first (as in FreeRTOS), and a wait is simple to
// prove: a task returns only when its condition held under masked interrupts, or throws
// `TimedOut` when the deadline passed.

/// When a blocking call gives up, fixed when the call first has to wait (so retries do not
/// extend it). That is still inside the call's first critical section, where the tick
/// cannot move, so it is the tick the call started at; and a call that never waits never
/// reads the tick count.
struct Deadline {
    let timeout: Timeout
    /// The tick the wait ends at; set by `start`, meaningless for `forever` and `noWait`.
    private(set) var tick: UInt32 = 0
    private(set) var isStarted = false

    @inline(__always)
    init(_ timeout: Timeout) { self.timeout = timeout }

    mutating func start() {
        tick = tickCount &+ timeout.ticks
        isStarted = true
    }

    /// The timeout has run out (or was `noWait`): the call fails now.
    var hasPassed: Bool {
        if timeout.ticks == Timeout.forever.ticks { return false }
        if timeout.ticks == 0 { return true }
        return Int32(bitPattern: tick &- tickCount) <= 0  // wrap-safe
    }

    /// The tick the scheduler wakes the task at; nil: only a waker does.
    var wakeTick: UInt32? { timeout.ticks == Timeout.forever.ticks ? nil : tick }
}

enum Waiting {
    /// What each task waits for when the object's waiters mask alone cannot say (event flags:
    /// which bits, any or all), by task index; the generated table, set by `Kernel.start`.
    /// Only an image with event flags or stream buffers has one (the micro:bit's RAM is short).
    nonisolated(unsafe) static var conditionTable: UnsafeMutablePointer<WaitCondition>? = nil
    @inline(__always) static var conditions: UnsafeMutablePointer<WaitCondition> { conditionTable.unsafelyUnwrapped }

    /// One wait of a blocking call's loop, with interrupts masked (`interrupts` is the state
    /// the call's `Interrupts.mask()` returned). Returns false without waiting when the
    /// deadline has passed; otherwise parks the running task on `waiters`, switches away,
    /// and returns true once it runs again (woken, or timed out: the caller checks again),
    /// with interrupts masked again. In a handler, or in a task that had masked interrupts
    /// itself, it cannot wait: that is a fault (`Faults.refuseBlocking`). `lendsPriority`: the task waits on a mutex whose holder
    /// runs at its priority meanwhile (no default: a call inlined into the application would
    /// call the default's generator function before every wait).
    /// Out of line under a fixed name: `keel check` finds a handler that can reach it.
    @inline(never) @_silgen_name("keel_wait")
    static func wait(on waiters: UnsafeMutablePointer<UInt32>, until deadline: inout Deadline, interrupts: UInt32,
                     lendsPriority: Bool) -> Bool {
        if !deadline.isStarted { deadline.start() }
        if deadline.hasPassed { return false }
        if interrupts != 0 || Processor.isInHandlerMode { Faults.refuseBlocking() }
        Scheduler.makeWaiting(currentTask.unsafelyUnwrapped, on: waiters, until: deadline.wakeTick, lendsPriority: lendsPriority)
        Interrupts.restore(interrupts)  // PendSV is taken here: another task runs until this one is ready
        Interrupts.maskUnmasked()       // back in the caller's critical section to check again
        return true
    }

    /// Makes the most urgent task waiting on `waiters` ready and returns it (nil: none waits).
    /// A switch is requested when it is more urgent than the running task; from a handler it
    /// then happens on exception return. Interrupts are masked by the caller.
    /// Through `wake(_:waitingIn:)`, not `makeReady`: the task is in these waiters (their
    /// lowest bit) and lends no priority (only a mutex's waiters do, and a mutex wakes
    /// through `wake`).
    @discardableResult @inline(__always)
    static func wakeOne(_ waiters: UnsafeMutablePointer<UInt32>) -> TaskPointer? {
        let mask = waiters.pointee
        guard mask != 0 else { return nil }
        let task = Scheduler.task(lowestBitOf: mask)
        wake(task, waitingIn: waiters)
        return task
    }

    /// Makes `task`, known to wait in `waiters` (its bit is set there) and to lend no
    /// priority, ready: `makeReady` without the tests it needs when it knows neither
    /// (`notify`'s path). Switches when it is more urgent than the running task.
    @inline(__always)
    static func wake(_ task: TaskPointer, waitingIn waiters: UnsafeMutablePointer<UInt32>) {
        let bit = task.pointee.bit
        waiters.pointee &= ~bit
        task.pointee.waitingOn = nil
        task.pointee.state = .ready
        scheduler.sleeping &= ~bit  // in case it waited with a timeout
        scheduler.ready |= bit
        switchIfMoreUrgent(task)
    }

    /// Makes `task` (waiting) ready; switches when it is more urgent than the running task.
    static func wake(_ task: TaskPointer) {
        Scheduler.makeReady(task)
        switchIfMoreUrgent(task)
    }

    /// Asks for a switch when `task`, just made ready, is more urgent than the running task.
    @inline(__always)
    static func switchIfMoreUrgent(_ task: TaskPointer) {
        // A task is running: waking needs a waiter, and only started tasks wait.
        if task.pointee.isMoreUrgent(than: currentTask.unsafelyUnwrapped.pointee) {
            Processor.pendContextSwitch()
        }
    }
}

/// What a waiting task waits for, where its object's waiters mask cannot say: event flags
/// (which bits, any or all), a stream buffer's reader (how many bytes, in `bits`).
@_spi(Build) public struct WaitCondition {
    var bits: UInt32 = 0
    /// Every one of `bits`, not any.
    var all = false

    @_spi(Build) public init() {}
    init(bits: UInt32, all: Bool) { self.bits = bits; self.all = all }

    func holds(for flags: UInt32) -> Bool { all ? flags & bits == bits : flags & bits != 0 }
}
