// Context-switch benchmark: two equal-priority tasks yield to each other; no tick runs.
//
// `keel bench` counts the instructions QEMU executes between the two markers: 1000 rounds
// of ping's loop, each a switch to pong, one round of pong's loop and a switch back, so
// 2000 switches with both loops included (the shape FreeRTOS was measured in). The
// manifest's protections are replaced by each benchmark variant.

import Keel

let benchRounds = 1000

nonisolated(unsafe) var benchMarker: UInt32 = 0

/// Start of the measured window (its address is the counter's start marker).
@_silgen_name("keel_bench_start") @inline(never)
func benchStart() { benchMarker = 1 }

/// End of the measured window.
@_silgen_name("keel_bench_stop") @inline(never)
func benchStop() { benchMarker = 2 }

func pingTask() {
    for _ in 0..<10 { Keel.yield() }  // warm-up: both tasks have run and switched
    benchStart()
    for _ in 0..<benchRounds { Keel.yield() }
    benchStop()
    Keel.shutdown(code: 0)
}

func pongTask() {
    while true { Keel.yield() }
}

/// The same two tasks after one FP instruction each: their frames are extended from then on,
/// so every switch saves and loads s16-s31 (`keel bench`'s FP row on an FPU board).
nonisolated(unsafe) var benchFloat: Float = 1.5

func pingTaskUsingTheFPU() {
    benchFloat = benchFloat * 1.25 + 0.5
    pingTask()
}

func pongTaskUsingTheFPU() {
    benchFloat = benchFloat * 1.25 + 0.5
    pongTask()
}
