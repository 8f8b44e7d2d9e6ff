// Tickless idle: while only the idle task can run, the tick stops for as long as nothing
// needs it.
//
// The idle task works out the nearest tick anything waits for: a sleeping task's wake tick
// (`Keel.sleep`, or a wait with a timeout), the software timers' next expiry, the watchdog's
// next feed or deadline. It programs SysTick to interrupt once, at that tick, and sleeps
// (WFI). On waking it adds the whole ticks that passed to `tickCount`, and restarts SysTick
// so that its next interrupt comes where the tick it woke in ends. So `Keel.ticks`, every
// timeout and `sleep(until:)` read exactly as under a tick that never stopped. An interrupt
// that wakes a task ends the sleep early; the ticks counted are then the ones that passed.
//
// PRIMASK stays set from the decision to the count (WFI still wakes on a pending interrupt;
// ARMv7-M B1.5.19). So no handler runs, and no task is made ready, between reading the
// deadlines and sleeping, and a handler that ends the sleep reads the tick count already
// brought up to date.
//
// This is FreeRTOS's default `vPortSuppressTicksAndSleep` and Zephyr's tickless kernel, with
// SysTick as the timer. SysTick runs on the core clock, which WFI's sleep keeps (or, asleep,
// on its reference clock where the board has a slower one: the STM32F4's HCLK / 8). A part
// that stops its clocks in deep sleep needs its low-power timer (an RTC) here instead. The
// 24-bit counter bounds one sleep: 671 ticks at 25 MHz and 1 kHz, 798 on the STM32F4's 21
// MHz reference clock. After that the idle task just sleeps again.

/// The idle task's sleeps with the tick stopped, and the ticks they counted without a tick
/// interrupt; `keel top` and `Keel.idleStatistics` read them.
struct TicklessStatistics {
    var sleeps: UInt32 = 0
    var ticksSlept: UInt32 = 0
}

@_silgen_name("keel_tickless")
nonisolated(unsafe) var tickless = TicklessStatistics()

enum TicklessIdle {
    /// One sleep of the idle task, with the tick stopped when the next tick is not needed.
    /// Returns once the interrupt that ended the sleep has run.
    static func sleep() {
        let primask = portMaskAllInterrupts()
        defer { portRestoreAllInterrupts(primask) }  // the interrupt that woke the core runs here
        let configuration = Kernel.configuration
        let tickClocks = configuration.clockHertz / configuration.tickHertz
        // Asleep, SysTick may count a slower clock (its reference clock, a board fact), so
        // that one sleep reaches further; 2^`shift` core clocks make one of its counts.
        let shift = configuration.sleepClockShift
        let tickCounts = tickClocks >> shift
        let span = min(ticksUntilNeeded(), SysTick.maximumReload / tickCounts)
        // A span of 1 needs the next tick anyway: stopping the timer would only cost.
        guard span >= 2 else { return waitForInterrupt() }

        SysTick.control.write(SysTick.stopped)
        _ = SysTick.control.read()  // clears COUNTFLAG: from here it says "reached 0 asleep"
        if SystemControl.interruptControlState.read() & SystemControl.sysTickPending != 0 {
            // The tick came as the timer stopped: let its handler run first.
            SysTick.control.write(SysTick.running)
            return
        }
        let countsLeftInTick = max(SysTick.current.read() >> shift, 1)
        // The interrupt comes at the tick `span` ticks from now: the rest of this tick, then
        // span - 1 whole ones.
        let sleepCounts = countsLeftInTick &+ (span &- 1) &* tickCounts
        let asleep = shift == 0 ? SysTick.running : SysTick.runningOnReference
        SysTick.start(period: sleepCounts, control: asleep)

        waitForInterrupt()

        SysTick.control.write(asleep & ~SysTick.enable)
        let reachedZero = SysTick.control.read() & SysTick.countFlag != 0
        // Counts since the timer restarted; after it reached 0 (and reloaded sleepCounts - 1),
        // counts since that tick.
        let elapsed = sleepCounts &- SysTick.current.read()
        let ticks: UInt32
        let countsToNextTick: UInt32
        if reachedZero {
            // The whole span passed: its last tick is pending, and its handler counts it. The
            // next tick comes a period after it. A core woken more than a tick late (never on a
            // part, where waking takes microseconds; QEMU's -icount moves its clock on to the
            // next deadline before the core runs) counts from the deadline, as a ticking
            // kernel's tick would: a wake is never counted late.
            ticks = span &- 1
            countsToNextTick = elapsed < tickCounts ? tickCounts &- elapsed : tickCounts
        } else {
            // Woken early: the ticks that passed are the rest of the first, then whole ones.
            let sinceLastTick = elapsed &+ (tickCounts &- countsLeftInTick)
            ticks = sinceLastTick / tickCounts
            countsToNextTick = tickCounts &- sinceLastTick % tickCounts
        }
        // Back on the core clock, from where the current tick ends.
        var clocksToNextTick = countsToNextTick << shift
        if clocksToNextTick < minimumRestartClocks {
            if reachedZero {
                clocksToNextTick = minimumRestartClocks  // the tick is pending already: the next a few clocks late
            } else {
                // The next tick is a few clocks away: it is taken now, and the timer restarted
                // for the one after.
                SystemControl.interruptControlState.write(SystemControl.sysTickPending)
                clocksToNextTick &+= tickClocks
            }
        }
        restart(firstPeriod: clocksToNextTick, period: tickClocks)

        tickCount &+= ticks
        tickless.sleeps &+= 1
        tickless.ticksSlept &+= ticks
    }

    /// The fewest clocks SysTick restarts for: its first period must load before the ordinary
    /// one is written behind it.
    static let minimumRestartClocks: UInt32 = 32

    /// Restarts SysTick for `firstPeriod` clocks, then every `period`: a new reload takes
    /// effect when the count next passes 0, so the first is loaded (at the counter's next
    /// clock, CVR no longer 0) before the ordinary period is written. Writing both at once, as
    /// FreeRTOS does, relies on that clock coming within one instruction; QEMU takes it later,
    /// and the tick then restarts a whole period late at every wake.
    static func restart(firstPeriod: UInt32, period: UInt32) {
        SysTick.start(period: firstPeriod)
        while SysTick.current.read() == 0 {}
        SysTick.reload.write(period &- 1)
    }

    /// Ticks from now until the first tick something waits for (`UInt32.max`: none; 0 or 1:
    /// the next tick is needed). Called with every interrupt masked.
    static func ticksUntilNeeded() -> UInt32 {
        // A task other than idle is ready: the switch to it is pending.
        if scheduler.ready & ~Scheduler.idleBit != 0 { return 0 }
        var nearest = UInt32.max
        var sleeping = scheduler.sleeping
        while sleeping != 0 {
            let task = Scheduler.task(lowestBitOf: sleeping)
            sleeping &= sleeping &- 1
            let remaining = Int32(bitPattern: task.pointee.wakeTick &- tickCount)
            guard remaining > 0 else { return 0 }
            nearest = min(nearest, UInt32(remaining))
        }
        if SoftwareTimers.anyActive {
            let remaining = Int32(bitPattern: SoftwareTimers.nextExpiry &- tickCount)
            guard remaining > 0 else { return 0 }
            nearest = min(nearest, UInt32(remaining))
        }
        #if KEEL_WATCHDOG_CMSDK
        nearest = min(nearest, Watchdog.ticksIdleMaySleep)
        #endif
        return nearest
    }

    /// WFI between barriers: the register writes before it are done, and the instructions
    /// after it see what the interrupt changed.
    @inline(__always)
    static func waitForInterrupt() {
        dataSynchronizationBarrier(0xF)
        Processor.waitForInterrupt()
        instructionSynchronizationBarrier(0xF)
    }
}
