// An FP task's exception frame jumps its 32-byte MPU guard, and the lazy FP state is then
// written into the guard: the site Zephyr's 128-byte FP guard is for (`keel check` flags
// this manifest; it is wrong on purpose).
//
// `digger` computes in floats and descends until its SP is less than 40 bytes above its
// stack's bottom, then spins. The tick reserves an extended frame (108 bytes) whose integer
// words land below the guard, where the MPU lets them be written; the tick's switch to `peer`
// then saves digger's s16-s31 (PendSV's first FP instruction), which makes the hardware
// write the lazily reserved s0-s15 into the frame, across the guard: MemManage, MLSPERR. The
// record names the task whose frame it was (not PendSV, not the kernel), the guard that
// caught it and how far below it the frame reached; the system goes on.
import Keel

nonisolated(unsafe) var accumulator: Float = 1.5
nonisolated(unsafe) var roomAbove: UInt32 = 0

@inline(never)
func descend(_ depth: UInt32) -> UInt32 {
    var local = depth
    let here = withUnsafeMutablePointer(to: &local) { UInt32(UInt(bitPattern: $0)) }
    let room = here &- Keel.stackBottom
    if room > 40 { return descend(depth &+ 1) &+ local }
    roomAbove = room
    while true {}  // the tick comes, and with it the switch to `peer`
}

func diggerTask() {
    accumulator = accumulator * 1.25 + 0.5  // an FP instruction: CONTROL.FPCA is set from here on
    _ = descend(0)
}

/// Below the digger's guard: what the jumped frame writes into (it never runs again).
func floorTask() {
    while true { Keel.sleep(ticks: 1000) }
}

func peerTask() {
    while true { Keel.yield() }
}

func witnessTask() {
    Keel.sleep(ticks: 10)
    print("fp-lazy: digger's SP was at most \(roomAbove) bytes above its stack's bottom")
    Keel.shutdown(code: 0)
}
