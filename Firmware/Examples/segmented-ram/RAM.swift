// The RAM reference application: six tasks that each have one deep phase, at different
// times (task i sleeps 10*i ms, goes 2-4 KiB deep, then idles in shallow work). `keel
// bench` runs it twice: with these segmented stacks (peak RAM: the first segments plus the
// pool's peak use) and with every task on a large painted fixed stack (what each needs at
// its worst: its high-water mark, power-of-two rounded where an MPU region must cover it).
//
// `phase` nests at most 23 times (radio's depth 22 down to 0), the manifest's
// `"recursion_depth"`, so `keel check` proves every task's `max` on both MPU boards (the
// six tasks' first segments and the pool do not fit the micro:bit's 16 KiB).

import Keel

@inline(never)
func phase(_ depth: UInt32, _ seed: UInt32) -> UInt32 {
    var frame = InlineArray<40, UInt32>(repeating: seed)
    frame[Int(depth % 40)] = depth &* 0x9E37_79B9
    let here = withUnsafeMutablePointer(to: &frame) { $0.pointee[Int(depth % 40)] &+ $0.pointee[Int((depth &+ 3) % 40)] }
    if depth == 0 { return here }
    return phase(depth &- 1, seed &+ here) &* 33 &+ here
}

/// Sleeps until its slot, runs its deep phase, then a few shallow rounds.
func work(_ slot: UInt32, depth: UInt32) {
    Keel.sleep(ticks: 1 &+ slot &* 10)
    let deep = phase(depth, slot)
    var shallow: UInt32 = 0
    for round in 0..<5 {
        shallow &+= phase(2, UInt32(round))
        Keel.sleep(ticks: 1)
    }
    print("keel-ram:task slot=\(slot) checksum=\(deep &+ shallow)")
}

func sensorTask() { work(0, depth: 14) }
func radioTask() { work(1, depth: 22) }
func loggerTask() { work(2, depth: 18) }
func parserTask() { work(3, depth: 20) }
func cryptoTask() { work(4, depth: 16) }
func uiTask() { work(5, depth: 12) }
