// Task control: suspend and resume another task (or the caller), and read a task's status.
//
// A suspended task is out of the ready mask and in no waiters mask: nothing the wake paths
// do can make it run, so suspension costs the services' hot paths nothing. What it was
// waiting for ends as a timeout's end would, except that its blocking call does not give up:
// Keel's waits check their condition again whenever the task runs (Waiting.swift), so after
// `resume` the call checks, and waits on for what is left of its timeout. A `Keel.sleep`
// ends early. A suspended task keeps its mutexes and lends no priority while it is
// suspended. (FreeRTOS's vTaskSuspend also takes a task off its event list; ThreadX and
// Zephyr suspend a waiting thread once its wait is over.)
//
//
// A priority change re-ranks the task (Ranks.swift): it goes to the end of its new priority's
// round-robin group, and every mask that holds a bit of it (the ready tasks, an object's
// waiters) follows, so a waiter is woken in its new order too. Inheritance is kept as it
// was: a mutex's holder still runs at its most urgent waiter's priority while that one
// waits, whichever of the two changed (FreeRTOS's vTaskPrioritySet, Zephyr's
// k_thread_priority_set and ThreadX's tx_thread_priority_change do the same re-queueing).

/// What a task is doing, as `TaskHandle.status` reads it.
public enum TaskStatus: Sendable, Equatable {
    /// Running now, or ready to run.
    case ready
    /// Waiting on a kernel object or sleeping.
    case waiting
    /// Suspended by `suspend()`, until `resume()`.
    case suspended
    /// Its entry returned.
    case exited
    /// Stopped by the kernel after a fault.
    case killed
}

extension TaskHandle {
    /// Stops the task from running until `resume()`; the caller suspending itself switches
    /// away at once and returns when resumed. A suspended or stopped task is left as it is.
    /// Blocks: no (but see above). From: anywhere. Stack: leaf.
    public func suspend() {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        let task = Scheduler.task(index)
        guard task.pointee.isLive && task.pointee.state != .suspended else { return }
        Scheduler.makeSuspended(task)
        if task == scheduler.current { Processor.pendContextSwitch() }  // taken when the mask is restored
    }

    /// Lets a suspended task run again (a task not suspended is left as it is); from a
    /// handler, a more urgent task it resumes runs on exception return.
    /// Blocks: no. From: anywhere. Stack: leaf.
    public func resume() {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        let task = Scheduler.task(index)
        guard task.pointee.state == .suspended else { return }
        Waiting.wake(task)
    }

    /// The task's priority: the manifest's, or the last `setPriority`'s (not one it inherits
    /// from a mutex's waiter). Blocks: no. From: anywhere. Stack: leaf.
    public var priority: UInt8 { Scheduler.task(index).pointee.priority }

    /// Gives the task priority `priority` (1...254, larger is more urgent, as in the manifest)
    /// and the last turn among the tasks of that priority; it takes effect at once: when the
    /// caller or a task it lowered is no longer the most urgent ready task, the CPU switches
    /// (from a handler, on exception return). Setting the same priority again moves the task
    /// to the end of its group, as a yield would. Out of range is a trap naming this call.
    /// O(tasks) with interrupts masked. Blocks: no. From: anywhere. Stack: leaf.
    public func setPriority(_ priority: UInt8) {
        precondition(priority >= 1 && priority <= 254, "TaskHandle.setPriority: a task's priority is 1...254")
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        Ranks.move(Scheduler.task(index), toPriority: priority)
    }

    /// What the task is doing now. Blocks: no. From: anywhere. Stack: leaf.
    public var status: TaskStatus {
        switch Scheduler.task(index).pointee.state {
        case .ready: .ready
        case .sleeping, .blocked: .waiting
        case .suspended: .suspended
        case .exited: .exited
        case .killed: .killed
        }
    }
}
