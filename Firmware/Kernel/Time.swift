// Time: the SysTick tick, sleeping tasks and time slicing.
//
// SysTick runs at the same (lowest) priority as PendSV, so it never interrupts a context
// switch. Every tick wakes the tasks whose time has come and asks for a switch, which also
// rotates equal-priority tasks (time slicing). With `tick_hz = 0` there is no tick at all.

@_silgen_name("keel_tick_count")  // read by `keel top` (since when a task waits)
nonisolated(unsafe) var tickCount: UInt32 = 0

enum Time {
    /// Puts the running task to sleep for at least `ticks` ticks (0 only yields).
    /// Out of line under a fixed name, like `keel_wait`: `keel check` finds a handler that sleeps.
    @inline(never) @_silgen_name("keel_sleep")
    static func sleep(ticks: UInt32) {
        guard ticks > 0 else { Keel.yield(); return }
        let interrupts = Interrupts.mask()
        if interrupts != 0 || Processor.isInHandlerMode { Faults.refuseBlocking() }
        Scheduler.makeSleeping(currentTask.unsafelyUnwrapped, until: tickCount &+ ticks)
        Processor.requestContextSwitch()
        Interrupts.restore(interrupts)  // PendSV is taken here
    }

    /// Sleeps until the tick count reaches `deadline` (wrap-safe); a deadline already past
    /// only yields, so a periodic task that ran late catches up without drifting.
    @inline(never) @_silgen_name("keel_sleep_until")
    static func sleep(until deadline: UInt32) {
        let interrupts = Interrupts.mask()
        if interrupts != 0 || Processor.isInHandlerMode { Faults.refuseBlocking() }
        let remaining = Int32(bitPattern: deadline &- tickCount)
        if remaining > 0 {
            Scheduler.makeSleeping(currentTask.unsafelyUnwrapped, until: deadline)
        }
        Processor.requestContextSwitch()
        Interrupts.restore(interrupts)  // PendSV is taken here
    }

    /// Milliseconds since the kernel started, from the tick count and the tick's rate
    /// (0 without a tick).
    static var milliseconds: UInt32 {
        let hertz = Kernel.configuration.tickHertz
        guard hertz > 0 else { return 0 }
        return UInt32(truncatingIfNeeded: UInt64(tickCount) &* 1000 / UInt64(hertz))
    }

    /// Whole ticks that last at least `milliseconds` (at least 1 for a nonzero wait).
    static func ticks(forMilliseconds milliseconds: UInt32) -> UInt32 {
        let hertz = UInt64(Kernel.configuration.tickHertz)
        guard milliseconds > 0, hertz > 0 else { return 0 }
        return UInt32(truncatingIfNeeded: max(1, (UInt64(milliseconds) &* hertz &+ 999) / 1000))
    }
}

@_cdecl("keel_systick_handler")
func sysTickHandler() {
    tickCount &+= 1
    #if KEEL_MUTEXES
    RefusedCycle.printIfKept()  // a lock refused with `.deadlock` since the last tick
    #endif
    #if KEEL_SPLIT_STACK
    SegmentedStacks.countTickInsideMoreStack()
    #endif
    SoftwareTimers.tick()  // a load and a branch without timers: no kernel variant of its own
    #if KEEL_WATCHDOG_CMSDK
    Watchdog.tick()        // a load and a branch without deadlines
    #endif
    var sleeping = scheduler.sleeping
    while sleeping != 0 {
        let task = Scheduler.task(lowestBitOf: sleeping)
        sleeping &= sleeping &- 1
        // Wrap-safe: due when the signed distance to the wake tick is not positive.
        if Int32(bitPattern: tickCount &- task.pointee.wakeTick) >= 0 {
            Scheduler.makeReady(task)
        }
    }
    Processor.requestContextSwitch()
}
