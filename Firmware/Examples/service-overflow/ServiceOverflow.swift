// An overflow inside a kernel call: `deep` recurses until its stack is nearly full, then
// waits on an empty queue. The wait's frames and the exception frame of the switch land
// below the stack: the task's protection catches it and names `deep`; `bystander` runs on.
import Keel

/// Bytes left between the caller's frame and the bottom of its stack.
@inline(never)
func bytesLeft(_ frame: UnsafeMutableRawPointer) -> UInt32 {
    UInt32(UInt(bitPattern: frame)) &- Keel.stackBottom
}

/// Real recursion (a frame that stays live across the call, so the compiler cannot make a loop
/// of it) until fewer than 48 bytes are left; then a blocking receive.
@inline(never)
func descend(_ depth: UInt32) -> UInt32 {
    var frame: (UInt32, UInt32) = (depth, depth)
    let left = withUnsafeMutablePointer(to: &frame) { bytesLeft(UnsafeMutableRawPointer($0)) }
    if left < 48 {
        return (try? inbox.receive(timeout: .ticks(5))) ?? depth
    }
    let below = descend(depth &+ 1)
    return withUnsafeMutablePointer(to: &frame) { $0.pointee.1 } &+ below
}

func deepTask() {
    Keel.sleep(ticks: 2)
    print("deep: returned \(descend(0)) (not caught)")
}

func bystanderTask() {
    Keel.sleep(ticks: 20)
    print("bystander: still running, deep \(Keel.task(0).wasKilled ? "was stopped" : "runs")")
}
