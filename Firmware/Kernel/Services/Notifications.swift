// Direct-to-task notifications: 32 event bits per task, set by anyone, taken by the task.
//
// The bits live in the task's control block; a task waiting for them is in one kernel-wide
// waiters mask (`notificationWaiters`). `notify` sets bits and wakes the task if it waits;
// the task takes the bits it asked for when it runs. Cheaper than a semaphore or a queue
// when one task is the only receiver: no object to declare, one word per task.

/// One of the application's tasks, as `keel build` generates it: `Tasks.<name>`.
public struct TaskHandle: Sendable, Equatable {
    let index: Int

    @_spi(Build) public init(index: Int) { self.index = index }

    /// The task's name in the manifest. Blocks: no. From: anywhere. Stack: leaf.
    public var name: StaticString { Scheduler.task(index).pointee.name }

    /// Sets `bits` in the task's notifications and wakes it if it waits for any of them;
    /// from a handler, a more urgent task it wakes runs on exception return.
    /// Blocks: no. From: anywhere. Stack: leaf.
    /// (Always inlined: a handler's `Tasks.x.notify()` then folds the task and the bits in.)
    @inline(__always)
    public func notify(_ bits: UInt32 = 1) {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        let task = Scheduler.task(index)
        task.pointee.notifications |= bits
        if scheduler.notificationWaiters & task.pointee.bit != 0 { Waiting.wake(task, waitingIn: &scheduler.notificationWaiters) }
    }
}


extension Keel {
    /// Waits until at least one of `bits` is set in the calling task's notifications, clears
    /// the ones of `bits` that are set and returns them. Bits outside `bits` stay set.
    /// Blocks: yes. From: a task. Stack: switch.
    public static func waitForNotification(_ bits: UInt32 = .max, timeout: Timeout = .forever) throws(TimedOut) -> UInt32 {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        var deadline = Deadline(timeout)
        let task = currentTask.unsafelyUnwrapped
        repeat {
            let taken = task.pointee.notifications & bits
            if taken != 0 {
                task.pointee.notifications &= ~taken
                return taken
            }
        } while Waiting.wait(on: &scheduler.notificationWaiters, until: &deadline, interrupts: interrupts, lendsPriority: false)
        throw TimedOut()
    }

    /// The calling task, as others name it to notify it. Blocks: no. From: a task. Stack: leaf.
    public static var runningTask: TaskHandle { TaskHandle(index: Int(scheduler.current.unsafelyUnwrapped.pointee.index)) }
}
