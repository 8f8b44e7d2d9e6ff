// Floating point in every context at once: two tasks of equal priority that the tick switches
// between in the middle of their arithmetic, two interrupt handlers (one nested in the other)
// that interrupt that arithmetic and compute with the FPU themselves, the board's hardware
// timer (`DeviceTimer`) interrupting at 1 kHz with a handler that computes too (its count
// against the tick's says the rate is right), and a task that faults
// with live FP state and is restarted. Every result is compared, bit for bit, with the same
// computation run undisturbed: a register the switch or the lazy stacking lost would change it.
//
// On a board with an FPU the image is hard-float (s0-s31 hold the values); elsewhere the same
// code runs in libgcc's soft float, and must give the same answers.
import Keel

let lowLine = 5
let highLine = 6

/// Twenty-four accumulators that live in FP registers across the loop (s0-s31): more than
/// s0-s15, so the switch's s16-s31 matter too. `poke`: the round at which `lowLine` is raised,
/// so a handler runs with this computation's registers live (-1: never).
@inline(never)
func churn(_ seed: Float, rounds: Int, poke: Int) -> Float {
    var a0: Float = seed + 0.25
    var a1: Float = seed + 1.25
    var a2: Float = seed + 2.25
    var a3: Float = seed + 3.25
    var a4: Float = seed + 4.25
    var a5: Float = seed + 5.25
    var a6: Float = seed + 6.25
    var a7: Float = seed + 7.25
    var a8: Float = seed + 8.25
    var a9: Float = seed + 9.25
    var a10: Float = seed + 10.25
    var a11: Float = seed + 11.25
    var a12: Float = seed + 12.25
    var a13: Float = seed + 13.25
    var a14: Float = seed + 14.25
    var a15: Float = seed + 15.25
    var a16: Float = seed + 16.25
    var a17: Float = seed + 17.25
    var a18: Float = seed + 18.25
    var a19: Float = seed + 19.25
    var a20: Float = seed + 20.25
    var a21: Float = seed + 21.25
    var a22: Float = seed + 22.25
    var a23: Float = seed + 23.25
    for round in 0..<rounds {
        a0 = a0 * 0.998 + a1 * 0.001 + 1.0e-3
        a1 = a1 * 0.998 + a2 * 0.001 + 2.0e-3
        a2 = a2 * 0.998 + a3 * 0.001 + 3.0e-3
        a3 = a3 * 0.998 + a4 * 0.001 + 4.0e-3
        a4 = a4 * 0.998 + a5 * 0.001 + 5.0e-3
        a5 = a5 * 0.998 + a6 * 0.001 + 6.0e-3
        a6 = a6 * 0.998 + a7 * 0.001 + 7.0e-3
        a7 = a7 * 0.998 + a8 * 0.001 + 8.0e-3
        a8 = a8 * 0.998 + a9 * 0.001 + 9.0e-3
        a9 = a9 * 0.998 + a10 * 0.001 + 10.0e-3
        a10 = a10 * 0.998 + a11 * 0.001 + 11.0e-3
        a11 = a11 * 0.998 + a12 * 0.001 + 12.0e-3
        a12 = a12 * 0.998 + a13 * 0.001 + 13.0e-3
        a13 = a13 * 0.998 + a14 * 0.001 + 14.0e-3
        a14 = a14 * 0.998 + a15 * 0.001 + 15.0e-3
        a15 = a15 * 0.998 + a16 * 0.001 + 16.0e-3
        a16 = a16 * 0.998 + a17 * 0.001 + 17.0e-3
        a17 = a17 * 0.998 + a18 * 0.001 + 18.0e-3
        a18 = a18 * 0.998 + a19 * 0.001 + 19.0e-3
        a19 = a19 * 0.998 + a20 * 0.001 + 20.0e-3
        a20 = a20 * 0.998 + a21 * 0.001 + 21.0e-3
        a21 = a21 * 0.998 + a22 * 0.001 + 22.0e-3
        a22 = a22 * 0.998 + a23 * 0.001 + 23.0e-3
        a23 = a23 * 0.998 + a0 * 0.001 + 24.0e-3
        if round == poke { Keel.triggerInterrupt(lowLine) }
    }
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 + a16 + a17 + a18 + a19 + a20 + a21 + a22 + a23
}

/// A handler's computation: fewer values, and the nested handler raised in its middle.
@inline(never)
func handlerChurn(_ seed: Float, raise: Bool) -> Float {
    var x = seed, y = seed * 0.5, z = seed * 0.25, w = seed * 0.125
    for round in 0..<24 {
        x = x * 0.97 + y * 0.01
        y = y * 0.96 + z * 0.02
        z = z * 0.95 + w * 0.03
        w = w * 0.94 + x * 0.04
        if raise && round == 12 { Keel.triggerInterrupt(highLine) }
    }
    return x + y + z + w
}

/// What each computation gives undisturbed (computed with interrupts masked).
nonisolated(unsafe) var expectedLow: UInt32 = 0
nonisolated(unsafe) var expectedHigh: UInt32 = 0
nonisolated(unsafe) var lowRuns: UInt32 = 0
nonisolated(unsafe) var lowMismatches: UInt32 = 0
nonisolated(unsafe) var highRuns: UInt32 = 0
nonisolated(unsafe) var highMismatches: UInt32 = 0
nonisolated(unsafe) var crasherStarts: UInt32 = 0
nonisolated(unsafe) var crasherMismatches: UInt32 = 0
nonisolated(unsafe) var expectedTimer: UInt32 = 0
nonisolated(unsafe) var timerMismatches: UInt32 = 0
nonisolated(unsafe) var workersDone: UInt32 = 0

func workerTask(seed: Float, name: StaticString) {
    let expected = Keel.withInterruptsMasked { churn(seed, rounds: 400, poke: -1) }.bitPattern
    var mismatches = 0, preempted = 0
    let rounds = 40
    for round in 0..<rounds {
        let before = Keel.ticks
        let value = churn(seed, rounds: 400, poke: round % 3 == 0 ? 200 : -1)
        if Keel.ticks != before { preempted += 1 }
        if value.bitPattern != expected { mismatches += 1 }
    }
    print("fp: \(name) rounds \(rounds) mismatches \(mismatches) preempted \(preempted) result 0x\(String(expected, radix: 16))")
    Keel.withInterruptsMasked { workersDone += 1 }
}

func workerATask() { workerTask(seed: 1.5, name: "worker-a") }
func workerBTask() { workerTask(seed: -2.75, name: "worker-b") }

/// Faults with FP values live (its frame is an extended one) and is restarted twice, then
/// killed; each start checks that it computes as before.
func crasherTask() {
    crasherStarts += 1
    let expected = Keel.withInterruptsMasked { churn(0.5, rounds: 40, poke: -1) }
    let value = churn(0.5, rounds: 40, poke: 20)
    if value.bitPattern != expected.bitPattern { crasherMismatches += 1 }
    print("fp: crasher start \(crasherStarts) result 0x\(String(value.bitPattern, radix: 16))")
    // A trap with the FPU in use: the fault path abandons the extended frame.
    let divisor = Int(value.bitPattern & 0) // 0, computed: the compiler cannot fold the trap away
    print("not reached \(100 / divisor)")
}

func judgeTask() {
    expectedLow = Keel.withInterruptsMasked { handlerChurn(3.0, raise: false) }.bitPattern
    expectedHigh = Keel.withInterruptsMasked { handlerChurn(7.0, raise: false) }.bitPattern
    Keel.attachInterrupt(lowLine, priority: 0x80) {
        lowRuns &+= 1
        if handlerChurn(3.0, raise: true).bitPattern != expectedLow { lowMismatches &+= 1 }
    }
    Keel.attachInterrupt(highLine, priority: 0x40) {
        highRuns &+= 1
        if handlerChurn(7.0, raise: false).bitPattern != expectedHigh { highMismatches &+= 1 }
    }
    while workersDone < 2 { Keel.sleep(ticks: 5) }
    Keel.sleep(ticks: 20)  // the crasher's last start
    // 200 ticks of 10 kHz with the CPU busy here (QEMU's -icount warps its clock by twice
    // the time to the next deadline while the CPU sleeps in WFI: a rate against the tick is
    // only QEMU's truth while the CPU runs), the timer at 1 kHz.
    expectedTimer = Keel.withInterruptsMasked { handlerChurn(5.0, raise: false) }.bitPattern
    let timerStart = Keel.ticks
    DeviceTimer.start(hertz: 1000) {
        if handlerChurn(5.0, raise: false).bitPattern != expectedTimer { timerMismatches &+= 1 }
    }
    while Keel.ticks &- timerStart < 200 {}
    DeviceTimer.stop()
    let timerTicks = Keel.ticks &- timerStart
    print("fp: device timer \(DeviceTimer.interrupts) interrupts in \(timerTicks) ticks of 10 kHz, \(timerMismatches) mismatches")
    print("fp: handlers low \(lowRuns) runs \(lowMismatches) mismatches, high \(highRuns) runs \(highMismatches) mismatches")
    print("fp: crasher starts \(crasherStarts) mismatches \(crasherMismatches)")
    Keel.shutdown(code: 0)
}
