// Time: the SysTick tick, sleeping tasks and time slicing.
//
// SysTick runs at the same (lowest) priority as PendSV, so it never interrupts a context
// switch. Every tick wakes the tasks whose time has come and asks for a switch, which also
// rotates equal-priority tasks (time slicing). With `tick_hz = 0` there is no tick at all.

nonisolated(unsafe) var tickCount: UInt32 = 0

enum Time {
    /// Puts the running task to sleep for at least `ticks` ticks (0 only yields).
    static func sleep(ticks: UInt32) {
        guard ticks > 0 else { Keel.yield(); return }
        let interrupts = Interrupts.mask()
        Scheduler.makeSleeping(currentTask.unsafelyUnwrapped, until: tickCount &+ ticks)
        Processor.requestContextSwitch()
        Interrupts.restore(interrupts)  // PendSV is taken here
    }
}

@_cdecl("keel_systick_handler")
func sysTickHandler() {
    tickCount &+= 1
    #if KEEL_SPLIT_STACK
    SegmentedStacks.countTickInsideMoreStack()
    #endif
    var sleeping = scheduler.sleeping
    while sleeping != 0 {
        let task = Scheduler.task(sleeping.trailingZeroBitCount)
        sleeping &= sleeping &- 1
        // Wrap-safe: due when the signed distance to the wake tick is not positive.
        if Int32(bitPattern: tickCount &- task.pointee.wakeTick) >= 0 {
            Scheduler.makeReady(task)
        }
    }
    Processor.requestContextSwitch()
}
