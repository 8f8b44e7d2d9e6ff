// An overflow during a lazy FP reservation, caught by T1 (PSPLIM) on the M33 and the M55.
//
// `digger` computes in floats (its frames are extended ones from then on) and descends until
// its SP is less than an extended frame (104 bytes and an alignment word) but more than a
// basic one (32) above its stack's limit, then waits there for the tick. The tick's frame is
// reserved whole, with the FP part lazily left unwritten, so it crosses the limit although a
// basic frame would fit: PSPLIM refuses the stacking before a byte is written, and the record
// says so. `witness` then reports how far above the limit SP was (between two addresses the
// digger took: a local of its own frame, and one of a frame it called below it).
import Keel

nonisolated(unsafe) var accumulator: Float = 1.5
nonisolated(unsafe) var roomAbove: UInt32 = 0
nonisolated(unsafe) var roomBelow: UInt32 = 0

/// The address of a local of a frame below the caller's: the caller's SP is above it.
@inline(never)
func addressBelowCallersSP() -> UInt32 {
    var probe: UInt32 = 0
    return withUnsafeMutablePointer(to: &probe) { UInt32(UInt(bitPattern: $0)) }
}

@inline(never)
func descend(_ depth: UInt32) -> UInt32 {
    var local = depth
    let here = withUnsafeMutablePointer(to: &local) { UInt32(UInt(bitPattern: $0)) }
    let room = here &- Keel.stackBottom
    if room > 96 { return descend(depth &+ 1) &+ local }
    // SP lies between the probe below it and this frame's local above it.
    roomAbove = room
    roomBelow = addressBelowCallersSP() &- Keel.stackBottom
    let start = Keel.ticks
    while Keel.ticks == start {}  // the tick's exception frame lands here
    return local
}

func diggerTask() {
    accumulator = accumulator * 1.25 + 0.5  // an FP instruction: CONTROL.FPCA is set from here on
    _ = descend(0)
    print("not reached: the tick's frame is refused")
}

func witnessTask() {
    Keel.sleep(ticks: 5)
    print("fp-reservation: SP was \(roomBelow) to \(roomAbove) bytes above the limit when the tick came")
    Keel.shutdown(code: 0)
}
