// Software timers: a periodic timer started at boot expires on every multiple of its
// period; a one-shot once; a watchdog-style timer kept from expiring by `reset` until it is
// left alone; a timer started from an interrupt handler; a stopped timer stays stopped. Each
// callback runs in the timer task (above `main`), so it has run by the time `main` wakes on
// the same tick. Every expiry is recorded at the tick it ran on.

import Keel

/// Up to 8 ticks each timer's callback ran at.
struct Expiries {
    var ticks = InlineArray<8, UInt32>(repeating: 0)
    var count = 0
    mutating func record() { if count < 8 { ticks[count] = Keel.ticks }; count += 1 }
    var text: String {
        var text = ""
        for index in 0..<min(count, 8) { text += (index == 0 ? "" : " ") + "\(ticks[index])" }
        return text
    }
}
nonisolated(unsafe) var blinks = Expiries()
nonisolated(unsafe) var onces = Expiries()
nonisolated(unsafe) var watchdogs = Expiries()
nonisolated(unsafe) var handlerStarts = Expiries()

func blinkExpired() { blinks.record() }
func onceExpired() { onces.record() }
func watchdogExpired() { watchdogs.record() }
func fromHandlerExpired() { handlerStarts.record() }

func mainTask() {
    runChecks()
    Keel.shutdown(code: 0)
}

/// The checks, in a frame of their own: the shutdown's report then runs from `mainTask`'s small
/// frame, within the slack a prologue-checked task keeps below its limit (the micro:bit's default).
@inline(never)
func runChecks() {
    // `blink` started at boot (tick 0): every 10 ticks. Stopped after its fifth.
    Keel.sleep(until: 55)
    print("timers: blink at \(blinks.text), active \(blink.isActive)")
    blink.stop()
    Keel.sleep(until: 100)
    print("timers: blink stopped: \(blinks.count) expiries at tick 100, active \(blink.isActive)")

    // A one-shot, started now: once, 25 ticks later.
    once.start()
    Keel.sleep(until: 200)
    print("timers: once started at 100 ran at \(onces.text) (\(onces.count) time), active \(once.isActive)")

    // Reset every 10 ticks five times, then left alone: expires 30 ticks after the last reset.
    watchdog.start()
    for _ in 0..<5 {
        Keel.sleep(ticks: 10)
        watchdog.reset()
    }
    let lastReset = Keel.ticks
    Keel.sleep(ticks: 60)
    print("timers: watchdog reset 5 times, last at +\(lastReset &- 200), expired \(watchdogs.count) time at +\(watchdogs.ticks[0] &- lastReset) after it")

    // Started from an interrupt handler, with its own interval.
    Keel.attachInterrupt(4) { fromHandler.start(after: .ticks(7)) }
    Keel.sleep(until: 400)
    Keel.triggerInterrupt(4)
    Keel.sleep(until: 450)
    print("timers: started from a handler at 400, ran at \(handlerStarts.text)")

    // Restarted with a period at run time: three expiries 4 ticks apart, then stopped.
    blink.start(after: .ticks(4), every: .ticks(4))
    blinks.count = 0
    Keel.sleep(until: 462)
    blink.stop()
    print("timers: blink every 4 from 450: \(blinks.text)")
}
