// The task watchdog: the kernel feeds the board's watchdog (Hardware/WatchdogDevice.swift) on
// every tick, but only while every task that declared a deadline in keel.json
// ("deadline_ms") has checked in (`Keel.checkIn()`) within it. A task that stops checking in
// (stuck in a loop, waiting forever, starved by a more urgent one) stops the feeding; about
// `expiryMilliseconds` later the watchdog raises NMI, and the kernel prints a fault record
// naming that task (`kind=watchdog`) and resets, so the next boot reports it again
// (`keel:previous-boot`). If the tick itself stops (interrupts masked for good, a lockup),
// nothing feeds either: the record then names no task.
//
// Compare Zephyr's task watchdog (`task_wdt_add`, `task_wdt_feed`) and FreeRTOS's
// check-in patterns built on `xTaskGetTickCount`: here the deadlines are declared with the
// tasks, and the reset says which task missed its deadline.

#if KEEL_WATCHDOG_CMSDK
/// Each task's watchdog deadline in ticks, from the generated table (0: not watched).
@_extern(c, "keel_task_deadline") func applicationTaskDeadline(_ index: Int) -> UInt32

struct WatchdogState {
    /// The watchdog counts (some task has a deadline).
    var running = false
    /// The tick of each task's last check-in (its start counts as one).
    var checkedIn = InlineArray<32, UInt32>(repeating: 0)
    /// The first task found past its deadline, + 1 (0: none).
    var stuck: UInt32 = 0
}

nonisolated(unsafe) var watchdog = WatchdogState()

enum Watchdog {
    /// How long the watchdog waits without a feed before NMI.
    static let expiryMilliseconds: UInt32 = 100

    /// Starts the watchdog when some task declared a deadline. Called by `Kernel.start`.
    static func start() {
        var any = false
        for index in 0..<(scheduler.taskCount &- 1) where applicationTaskDeadline(index) != 0 { any = true }
        guard any else { return }
        watchdog.running = true
        WatchdogDevice.start(clockTicks: WatchdogDevice.clockHertz / 1000 &* expiryMilliseconds)
    }

    /// `task` checks in: `Keel.checkIn()`, and every (re)start of the task.
    static func checkIn(_ task: TaskPointer) {
        watchdog.checkedIn[Int(task.pointee.index)] = tickCount
    }

    /// On every tick: feeds unless a live task with a deadline has not checked in within it.
    @inline(__always)
    static func tick() {
        guard watchdog.running, watchdog.stuck == 0 else { return }
        for index in 0..<(scheduler.taskCount &- 1) {
            if let due = ticksUntilMissed(index), due <= 0 {
                watchdog.stuck = UInt32(index) &+ 1
                return  // no more feeds: the watchdog runs out
            }
        }
        WatchdogDevice.feed()
    }

    /// Ticks the idle task may sleep with the tick stopped (TicklessIdle.swift): until half the
    /// watchdog's expiry (the tick feeds it) or the first tick a watched task would be past
    /// its deadline, whichever comes first. `UInt32.max` when the watchdog does not run.
    static var ticksIdleMaySleep: UInt32 {
        guard watchdog.running, watchdog.stuck == 0 else { return .max }
        var limit = max(1, Time.ticks(forMilliseconds: expiryMilliseconds / 2))
        for index in 0..<(scheduler.taskCount &- 1) {
            if let due = ticksUntilMissed(index) { limit = min(limit, due > 0 ? UInt32(due) : 1) }
        }
        return limit
    }

    /// Ticks from now to the first tick at which task `index` is past its deadline (checked in
    /// more than `deadline` ticks ago; 0 or less: it is already); nil when it has no deadline
    /// or has stopped (exited, killed).
    @inline(__always)
    static func ticksUntilMissed(_ index: Int) -> Int32? {
        let deadline = applicationTaskDeadline(index)
        guard deadline != 0 else { return nil }
        let state = Scheduler.task(index).pointee.state
        if state == .exited || state == .killed { return nil }
        return Int32(bitPattern: watchdog.checkedIn[index] &+ deadline &+ 1 &- tickCount)
    }

    /// NMI: the watchdog ran out. A record naming the task that missed its deadline (none
    /// when the tick itself stopped), then the reset.
    static func expired() -> Never {
        let task = watchdog.stuck == 0 ? nil : Scheduler.task(Int(watchdog.stuck &- 1))
        FaultPolicy.resetSystem(FaultReport(task: task, kind: .watchdog, technique: .none, pc: 0, sp: 0,
                                            limit: task.map { applicationTaskDeadline(Int($0.pointee.index)) } ?? 0))
    }
}
#endif

/// NMI: on a board with a watchdog, its expiry; elsewhere nothing raises it.
@_cdecl("keel_nmi")
func nonMaskableInterrupt() {
    #if KEEL_WATCHDOG_CMSDK
    if watchdog.running { Watchdog.expired() }
    #endif
    unexpectedInterrupt()
}
