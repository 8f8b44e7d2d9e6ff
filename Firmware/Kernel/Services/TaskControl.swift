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
// Changing a task's priority at run time is not offered: the task table is sorted by
// priority once, at build time, and every mask's bit order is that order (Scheduler.swift).

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
