// The demo application: four tasks interleave; `runaway` recurses until it overflows its stack.
//
// `sensor` is the most urgent and samples every 2 ticks; `logger` and `filter` share a
// priority and take turns; `runaway` recurses with a 64-byte frame and yields at every
// level, so its overflow is caught at a switch (T4/T5, micro:bit), by the MPU before the
// write (T2, M3) or at the faulting push (T1, M33). Its policy restarts it once, then stops
// it. The others print that they are still running after it is stopped.
//
// `"stack_check": "warn"`: `runaway` recurses without end on purpose, and the other stacks
// are the sizes a first try would give (below `print`'s worst case, one frame wider than a
// 128-byte guard or a 16-byte red zone), so `keel check` shows what it says about them; the
// build prints those findings and goes on.

import Keel

func sensorTask() {
    for sample in 1...5 {
        print("sensor: sample \(sample) at tick \(Keel.ticks)")
        Keel.sleep(ticks: 2)
    }
}

func loggerTask() {
    for round in 1...4 {
        print("logger: round \(round), tick \(Keel.ticks)")
        Keel.sleep(ticks: 3)
    }
    print("logger: still running after the overflow")
}

func filterTask() {
    var state: UInt32 = 1
    for round in 1...4 {
        for _ in 0..<500 { state = state &* 1_103_515_245 &+ 12345 }
        print("filter: round \(round), state \(state % 1000)")
        Keel.sleep(ticks: 3)
    }
    print("filter: still running after the overflow")
}

func runawayTask() {
    Keel.sleep(ticks: 4)
    print("runaway: recursing without bound (restarted once after the first overflow, then stopped)...")
    let result = descend(1)
    print("runaway: returned \(result) (the overflow was not caught)")
}

/// Recursion with a 64-byte frame; yields at every level so the kernel switches at the edge.
@inline(never)
func descend(_ depth: UInt32) -> UInt32 {
    var frame = InlineArray<16, UInt32>(repeating: depth)
    Keel.yield()
    guard depth < 200 else { return depth }
    let below = descend(depth &+ 1)
    return withUnsafeMutablePointer(to: &frame) { keep($0) } &+ below
}

/// Keeps a frame alive: the optimiser cannot see through this.
@inline(never)
func keep(_ frame: UnsafeMutablePointer<InlineArray<16, UInt32>>) -> UInt32 {
    frame.pointee[Int(frame.pointee[0] % 16)]
}
