// The other segment allocator: every segmented task has a reserve of its own
// (`"segment_allocator": "reserved"`, SegmentAllocator.swift).
//
// The region is cut at boot into one run of granules per task, as large as its `max` less
// its first segment, in table order; a task's segments come from its own run only (the
// highest that fits within it, on the pool's bitmap, so they grow in place as the pool's do). What that buys: no task can take what another
// needs, so a task that stays within its `max` is never refused, and a runaway or a hog
// stops at its own `max`, not at an empty pool. What it costs: the region must hold every
// reserve at once (`keel build` checks that it does), which is the RAM fixed stacks would
// take for the same maxima less the first segments; kept segments and the slack work as
// with the pool.

public struct ReservedSegments: SegmentAllocator {
    var pool: SegmentPool
    /// Per task: its first granule and one past its last (equal when it has no reserve).
    var runs = InlineArray<32, (first: UInt16, end: UInt16)>(repeating: (0, 0))

    public init(region: UnsafeMutableRawBufferPointer, reserves: UnsafeBufferPointer<UInt32>) {
        pool = SegmentPool(region: region, reserves: reserves)
        var next = 0
        for task in 0..<min(reserves.count, 32) {
            let granules = Int((reserves[task] &+ SegmentPool.granuleBytes &- 1) >> SegmentPool.granuleShift)
            let end = min(next &+ granules, pool.granules)
            runs[task] = (UInt16(truncatingIfNeeded: next), UInt16(truncatingIfNeeded: end))
            next = end
        }
    }

    public mutating func allocate(_ bytes: UInt32, task: Int) -> UInt32? {
        guard task < 32 else { return nil }
        return pool.allocate(bytes, from: Int(runs[task].first), to: Int(runs[task].end))
    }

    public mutating func claim(_ bottom: UInt32, bytes: UInt32, task: Int) -> Bool {
        guard task < 32 else { return false }
        return pool.claim(bottom, bytes: bytes, from: Int(runs[task].first), to: Int(runs[task].end))
    }

    public mutating func release(_ bottom: UInt32, bytes: UInt32, task: Int) {
        pool.release(bottom, bytes: bytes, task: task)
    }
}
