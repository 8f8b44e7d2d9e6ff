// Priority inversion, bounded by inheritance: low holds `bus`, medium spins, high waits.
// Then interrupt wake-ups: a handler gives a semaphore, sends to a queue and notifies a task,
// and each time the woken (more urgent) task must run before the interrupted one resumes.
import Keel
import Synchronization

/// Ticks of its own running time a task has seen pass (time it was preempted counts once).
func work(ticks: UInt32) {
    var seen: UInt32 = 0
    var last = Keel.ticks
    while seen < ticks {
        let now = Keel.ticks
        if now != last { seen &+= 1; last = now }
    }
}

let criticalSectionTicks: UInt32 = 20
let mediumSpinTicks: UInt32 = 300

func lowTask() {
    Keel.sleep(ticks: 1)
    try? bus.lock()
    work(ticks: criticalSectionTicks)  // high and medium wake up in here
    try? bus.unlock()
    // Recursive locking is an error, not a deadlock; unlocking what one does not hold too.
    try? bus.lock()
    var recursive = "none"
    do { try bus.lock() } catch { recursive = error == .alreadyHeld ? "already-held" : "other" }
    try? bus.unlock()
    var stray = "none"
    do { try bus.unlock() } catch { stray = error == .notHeld ? "not-held" : "other" }
    print("low: recursive lock \(recursive), unlock when free \(stray)")
    interruptWakeUps()
}

func mediumTask() {
    Keel.sleep(ticks: 4)
    work(ticks: mediumSpinTicks)
}

func highTask() {
    Keel.sleep(ticks: 3)
    let start = Keel.ticks
    try? bus.lock()
    let waited = Keel.ticks &- start
    try? bus.unlock()
    print("high: waited \(waited) ticks for bus (critical section \(criticalSectionTicks), medium spins \(mediumSpinTicks))")
    // Then serve the interrupt wake-ups.
    for round in 0..<rounds {
        switch round % 3 {
        case 0: try? irqSignal.take()
        case 1: _ = try? irqSamples.receive()
        default: _ = try? Keel.waitForNotification(1)
        }
        stage.store(2, ordering: .sequentiallyConsistent)  // the woken task ran first
    }
}

let rounds = 300
let stage = Atomic<UInt32>(0)

/// Raises the interrupt `rounds` times from the least urgent task; each time the handler
/// wakes `high` one way or another, and `high` must have run before this task goes on.
func interruptWakeUps() {
    Keel.attachInterrupt(3, priority: 0x40) {
        switch interruptCount.add(1, ordering: .sequentiallyConsistent).oldValue % 3 {
        case 0: irqSignal.give()
        case 1: _ = irqSamples.trySend(7)
        default: Tasks.high.notify(1)
        }
    }
    var inOrder = 0
    for _ in 0..<rounds {
        stage.store(1, ordering: .sequentiallyConsistent)
        Keel.triggerInterrupt(3)
        if stage.load(ordering: .sequentiallyConsistent) == 2 { inOrder += 1 }
    }
    print("low: \(inOrder) of \(rounds) interrupt wake-ups ran the woken task first")
    Keel.shutdown(code: 0)
}

let interruptCount = Atomic<UInt32>(0)
