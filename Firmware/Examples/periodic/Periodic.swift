// Time: a periodic task that does uneven work each period and still wakes on exact multiples
// of its period (`sleep(until:)`), milliseconds beside ticks, and a critical section shared
// with a busy lower-priority task.

import Keel

let period: UInt32 = 7
nonisolated(unsafe) var shared: UInt32 = 0

func periodicTask() {
    var next = Keel.ticks
    let start = next
    for round in 1...10 {
        // Uneven work, up to two ticks' worth, so a plain sleep(ticks:) would drift.
        Keel.sleep(ticks: UInt32(round % 3))
        next &+= period
        Keel.sleep(until: next)
        let woke = Keel.ticks
        print("keel-test:woke round=\(round) offset=\(woke &- start) ticks=\(woke) ms=\(Keel.milliseconds)")
    }
    // A deadline already past only yields.
    let before = Keel.ticks
    Keel.sleep(until: before &- 5)
    print("keel-test:past-deadline waited=\(Keel.ticks &- before)")
    Keel.sleep(milliseconds: 3)  // 6 ticks at 2 kHz
    print("keel-test:slept ms=3 ticks=\(Keel.ticks &- before)")
    let total = Keel.withInterruptsMasked { shared }
    print("keel-test:shared=\(total)")
    Keel.shutdown(code: 0)
}

/// Increments `shared` in critical sections, as a driver updating state an interrupt reads.
func busyTask() {
    while true {
        Keel.withInterruptsMasked { shared &+= 1 }
    }
}
