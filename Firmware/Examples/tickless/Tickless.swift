// Tickless idle: every timeout stays exact while the tick is stopped.
//
// Most of this run every task waits, so the idle task stops the tick until the nearest
// deadline and sleeps (Firmware/Kernel/TicklessIdle.swift). `sleeper` sleeps spans from one
// tick to a second and a half (longer than SysTick's 24 bits reach in one sleep on any board)
// and a period with `sleep(until:)`, and reads the tick it woke on. `waiter` waits for a
// notification that never comes, with a timeout. `sampler` is woken by the board's hardware
// timer at 10 Hz: each interrupt ends an idle sleep early, and the tick count it reads then
// must be where a ticking kernel's would be. At the end, the idle task's sleeps and the ticks
// they counted without a tick interrupt say how long the tick was stopped.

import Keel

nonisolated(unsafe) var othersDone: UInt32 = 0

func sleeperTask() {
    for span: UInt32 in [1, 2, 3, 49, 670, 671, 672, 1500, 2] {
        let before = Keel.ticks
        Keel.sleep(ticks: span)
        print("keel-test:slept span=\(span) late=\(Keel.ticks &- before &- span)")
    }
    var next = Keel.ticks
    for round in 1...4 {
        next &+= 250
        Keel.sleep(until: next)
        print("keel-test:period round=\(round) late=\(Keel.ticks &- next)")
    }
    while Keel.withInterruptsMasked({ othersDone }) < 2 { Keel.sleep(ticks: 100) }
    print("keel-test:idle sleeps=\(Keel.ticklessSleeps) slept=\(Keel.ticksSlept) ticks=\(Keel.ticks)")
    Keel.shutdown(code: 0)
}

func samplerTask() {
    let start = Keel.ticks
    DeviceTimer.start(hertz: 10) { Tasks.sampler.notify() }
    for interrupt in 1...10 {
        _ = try? Keel.waitForNotification(1)
        // The timer counts on its own clock; the tick count must have kept pace with it.
        print("keel-test:timer interrupt=\(interrupt) offset=\(Keel.ticks &- start)")
    }
    DeviceTimer.stop()
    Keel.withInterruptsMasked { othersDone &+= 1 }
}

func waiterTask() {
    for round in 1...3 {
        let before = Keel.ticks
        do {
            _ = try Keel.waitForNotification(1, timeout: .ticks(333))
            print("keel-test:timeout round=\(round) notified")
        } catch {
            print("keel-test:timeout round=\(round) late=\(Keel.ticks &- before &- 333)")
        }
    }
    Keel.withInterruptsMasked { othersDone &+= 1 }
}
