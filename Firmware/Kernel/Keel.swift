// The API tasks call: yield, sleep, exit, and what a task may ask about itself.

enum Keel {
    /// Gives the CPU to the next ready task of the same priority (or keeps it if none).
    @inline(__always)
    static func yield() { Processor.requestContextSwitch() }

    /// Sleeps for at least `ticks` ticks of the kernel's tick.
    static func sleep(ticks: UInt32) { Time.sleep(ticks: ticks) }

    /// Ends the calling task; the others keep running.
    static func exit() -> Never {
        Scheduler.stop(currentTask.unsafelyUnwrapped, state: .exited)
        while true { Processor.waitForInterrupt() }  // not reached: the task is never resumed
    }

    /// Ticks since the kernel started.
    static var ticks: UInt32 { tickCount }

    /// Bytes of the calling task's stack written so far (needs painting).
    static var highWaterMark: UInt32 { StackPainting.highWaterMark(currentTask.unsafelyUnwrapped) }

    /// Lowest address of the calling task's stack.
    static var stackBottom: UInt32 { currentTask.unsafelyUnwrapped.pointee.stackBottom }

    /// Ends the whole run now with `code` (after printing the stack report).
    static func shutdown(code: UInt32) -> Never { Shutdown.run(code: code) }
}
