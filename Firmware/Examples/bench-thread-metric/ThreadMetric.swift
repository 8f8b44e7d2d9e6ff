// The Thread-Metric suite (Express Logic's RTOS benchmark, now ThreadX's) written for Keel
// from the suite's description: the same threads, priorities and loops, each test a phase of
// one image. `keel bench --only thread-metric` (Sources/KeelKit/Bench/ThreadMetricBench.swift)
// counts the instructions QEMU executes between `keel_bench_start` and `keel_bench_stop` in
// each phase and divides by its units; every phase first runs `warmUp` unmeasured rounds.
//
//   1. basic processing: one task, a loop over a 16-word array; unit: one pass.
//   2. cooperative scheduling: five tasks of one priority, each `counter += 1; yield()`;
//      unit: one relinquish (one counter increment, one switch).
//   3. preemptive scheduling: five tasks of rising priority; each resumes the next more urgent
//      one, then counts and suspends itself (the most urgent only counts and suspends); unit:
//      one counter increment (a cycle is five increments and eight switches).
//   4. interrupt processing: the task raises an interrupt whose handler counts and gives a
//      semaphore, then takes it and counts; unit: one interrupt (handler + semaphore get).
//   5. interrupt preemption: a task raises an interrupt whose handler resumes a more urgent
//      task, which counts and suspends itself; unit: one interrupt (resume, two switches, suspend).
//   6. message processing: the task sends a 16-byte message to a queue and receives it back;
//      unit: one send + one receive.
//   7. synchronization: the task takes a semaphore and gives it back; unit: one get + one put.
//   8. memory allocation: the task allocates a 128-byte block and releases it; unit: one pair.
// No tick runs (`tick_hz` 0): Thread-Metric's reporting thread and its time base are replaced
// by the instruction count, which is exact; its check that every counter of a test moved
// together is kept (`countersAgree`): the run fails otherwise, and so does the bench.

import Keel

let rounds = 1000
let warmUp = 4

nonisolated(unsafe) var benchMarker: UInt32 = 0

@_silgen_name("keel_bench_start") @inline(never)
func benchStart() { benchMarker = 1 }

@_silgen_name("keel_bench_stop") @inline(never)
func benchStop() { benchMarker = 2 }

// Each test's counters, checked at the end as the suite's reporting thread checks them.
nonisolated(unsafe) var basicCounter: UInt32 = 0
nonisolated(unsafe) var cooperativeCounters = InlineArray<5, UInt32>(repeating: 0)
nonisolated(unsafe) var preemptiveCounters = InlineArray<5, UInt32>(repeating: 0)
/// Interrupt processing: the handler's count, the task's.
nonisolated(unsafe) var interruptCounters = InlineArray<2, UInt32>(repeating: 0)
/// Interrupt preemption: the handler's, the resumed task's, the raising task's.
nonisolated(unsafe) var preemptionCounters = InlineArray<3, UInt32>(repeating: 0)

// MARK: 1. basic processing

nonisolated(unsafe) var workArray = InlineArray<16, UInt32>(repeating: 0)

@inline(never)
func basicPass(_ pass: UInt32) {
    for index in 0..<16 { workArray[index] = (workArray[index] &+ pass) ^ UInt32(index) }
    basicCounter &+= workArray[Int(pass & 15)] & 1
}

// MARK: 2. cooperative scheduling

nonisolated(unsafe) var cooperativeLeft = 0

/// The five take turns: each pass of the loop is one relinquish. The window opens when the
/// first task ends its warm-up (the others are then at theirs) and closes when the last ends.
func cooperate(_ slot: Int) -> Never {
    _ = try? Keel.waitForNotification(1)  // the conductor starts all five at once
    for _ in 0..<warmUp {
        cooperativeCounters[slot] &+= 1
        Keel.yield()
    }
    if slot == 0 { benchStart() }
    for _ in 0..<rounds {
        cooperativeCounters[slot] &+= 1
        Keel.yield()
    }
    cooperativeLeft -= 1
    if cooperativeLeft == 0 { benchStop() }
    _ = try? Keel.waitForNotification(2)  // never comes
    fatalError("not reached")
}

func coop0Task() { cooperate(0) }
func coop1Task() { cooperate(1) }
func coop2Task() { cooperate(2) }
func coop3Task() { cooperate(3) }
func coop4Task() { cooperate(4) }

// MARK: 3. preemptive scheduling

func preempt0Task() {
    _ = try? Keel.waitForNotification(1)
    for _ in 0..<warmUp {
        Tasks.preempt1.resume()
        preemptiveCounters[0] &+= 1
    }
    benchStart()
    for _ in 0..<rounds {
        Tasks.preempt1.resume()
        preemptiveCounters[0] &+= 1
    }
    benchStop()
    _ = try? Keel.waitForNotification(2)  // never comes: the conductor goes on
}

/// Suspended until resumed; then resumes the next, counts, suspends again.
func preemptLink(_ slot: Int, next: TaskHandle?) -> Never {
    Keel.runningTask.suspend()
    while true {
        next?.resume()
        preemptiveCounters[slot] &+= 1
        Keel.runningTask.suspend()
    }
}

func preempt1Task() { preemptLink(1, next: Tasks.preempt2) }
func preempt2Task() { preemptLink(2, next: Tasks.preempt3) }
func preempt3Task() { preemptLink(3, next: Tasks.preempt4) }
func preempt4Task() { preemptLink(4, next: nil) }

// MARK: 5. interrupt preemption (the task the handler resumes)

func resumedTask() {
    while true {
        Keel.runningTask.suspend()
        preemptionCounters[1] &+= 1
    }
}

// MARK: The conductor: phases 1, 4, 6, 7, 8 itself, the others by starting their tasks

struct Message: BitwiseCopyable { var words: (UInt32, UInt32, UInt32, UInt32) }

/// Runs `body` `warmUp` times, then `rounds` times inside a window.
@inline(__always)
func measured(_ body: () -> Void) {
    for _ in 0..<warmUp { body() }
    benchStart()
    for _ in 0..<rounds { body() }
    benchStop()
}

func conductorTask() {
    var pass: UInt32 = 0
    measured { basicPass(pass); pass &+= 1 }

    cooperativeLeft = 5
    Keel.withInterruptsMasked {  // all five ready before the first runs
        Tasks.coop0.notify(1)
        Tasks.coop1.notify(1)
        Tasks.coop2.notify(1)
        Tasks.coop3.notify(1)
        Tasks.coop4.notify(1)
    }
    Tasks.preempt0.notify(1)  // runs the preemptive chain now (more urgent), then waits

    Keel.attachInterrupt(3, priority: 0x80) {
        interruptCounters[0] &+= 1
        interruptSignal.give()
    }
    measured {
        Keel.triggerInterrupt(3)
        try? interruptSignal.take()
        interruptCounters[1] &+= 1
    }

    Keel.attachInterrupt(4, priority: 0x80) {
        preemptionCounters[0] &+= 1
        Tasks.resumed.resume()
    }
    measured {
        Keel.triggerInterrupt(4)
        preemptionCounters[2] &+= 1
    }

    var message = Message(words: (1, 2, 3, 4))
    measured {
        try? messages.send(message)
        message = (try? messages.receive()) ?? message
    }

    measured {
        try? token.take()
        token.give()
    }

    measured {
        if let block = try? blocks.allocate() { blocks.release(block) }
    }
    Keel.shutdown(code: countersAgree() ? 0 : 1)
}

/// Every counter of a test at the same count, as the suite's reports require (within one
/// there; exactly here, where no time period cuts a cycle): else the figures are not kept.
func countersAgree() -> Bool {
    let each = UInt32(warmUp + rounds)
    var agree = true
    for slot in 0..<5 where cooperativeCounters[slot] != each || preemptiveCounters[slot] != each { agree = false }
    for slot in 0..<2 where interruptCounters[slot] != each { agree = false }
    for slot in 0..<3 where preemptionCounters[slot] != each { agree = false }
    if !agree { print("thread-metric: counters disagree") }
    return agree
}
