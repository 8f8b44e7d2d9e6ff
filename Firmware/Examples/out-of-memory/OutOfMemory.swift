// The heap runs out: `hungry` keeps every block it allocates until an allocation fails. The
// kernel stops it (an allocation never comes back null) and `steady` goes on. The test builds
// it once more with `hungry` segmented, where the stop takes PendSV's way (nothing is reported
// from the slack the allocation may run in). Allocates on purpose: "stack_check" is "warn".

import Keel

/// Blocks kept alive, as a linked list through the first word of each.
nonisolated(unsafe) var kept: UnsafeMutableRawPointer? = nil

func hungryTask() {
    var count: UInt32 = 0
    while true {
        let block = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
        block.storeBytes(of: kept, as: UnsafeMutableRawPointer?.self)
        kept = block
        count &+= 1
        if count % 16 == 0 { print("hungry: \(count) blocks") }
        Keel.yield()
    }
}

func steadyTask() {
    while Keel.task(Keel.taskIndex(named: "hungry") ?? 0).isRunning { Keel.sleep(ticks: 1) }
    print("steady: still running after the heap ran out")
    Keel.shutdown(code: 0)
}
