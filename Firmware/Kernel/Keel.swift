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

    /// Resets the kernel made since power-on (after a fault whose policy is `reset`); 0 after a cold boot.
    static var resetsSincePowerOn: UInt32 { PreviousBoot.resets }

    /// Runs `handler` for device interrupt line `irq` (0...7) at `priority` (1...254; lower is
    /// more urgent; faults are 0, the kernel's tick and switch 255).
    static func attachInterrupt(_ irq: Int, priority: UInt8 = 0x80, _ handler: @escaping @convention(c) () -> Void) {
        DeviceInterrupts.attach(irq, priority: priority, handler)
    }

    /// Makes interrupt `irq` pending, as its device would.
    static func triggerInterrupt(_ irq: Int) { DeviceInterrupts.pend(irq) }

    /// Runs `body` with memory protection off and interrupts masked. For diagnostics that must
    /// read other tasks' stacks (which T2 makes unreadable); never for normal work.
    static func withMemoryProtectionOff<Result>(_ body: () -> Result) -> Result { MPU.withProtectionOff(body) }

    /// Ends the whole run now with `code` (after printing the stack report).
    static func shutdown(code: UInt32) -> Never { Shutdown.run(code: code) }
}
