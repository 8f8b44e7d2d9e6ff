// The default segment allocator: one pool that every segmented task's further segments come
// from (`"segment_allocator": "pool"`, SegmentAllocator.swift).
//
// The pool is cut into 64-byte granules with one bit each (set: in use); a segment is a run
// of granules, the highest that fits (so it can grow down into what is free below it). A
// bitmap rather than a free list because segments differ in size (a frame over the usual
// segment size gets a larger one), a growth claims the granules just below a segment, and
// freeing must merge neighbours without a walk. The scan only runs on the slow path: a
// released segment stays with its task (SegmentedStacks.swift), so a loop that splits at
// the same point every iteration never reaches the pool. Callers mask interrupts: the pool
// is shared.

public struct SegmentPool: SegmentAllocator {
    public static let granuleBytes: UInt32 = 64
    static let granuleShift: UInt32 = 6
    /// 32 words of bits: 1024 granules, a 64 KiB pool (the manifest enforces the limit).
    static let maximumGranules = 1024

    var start: UInt32 = 0
    var granules = 0
    var bitmap = InlineArray<32, UInt32>(repeating: 0)

    public init(region: UnsafeMutableRawBufferPointer, reserves: UnsafeBufferPointer<UInt32>) {
        start = UInt32(UInt(bitPattern: region.baseAddress))
        granules = min(region.count >> Int(SegmentPool.granuleShift), SegmentPool.maximumGranules)
    }

    public mutating func allocate(_ bytes: UInt32, task: Int) -> UInt32? {
        allocate(bytes, from: 0, to: granules)
    }

    public mutating func release(_ bottom: UInt32, bytes: UInt32, task: Int) {
        mark(Int((bottom &- start) >> SegmentPool.granuleShift), count: Int(bytes >> SegmentPool.granuleShift), used: false)
    }

    public mutating func claim(_ bottom: UInt32, bytes: UInt32, task: Int) -> Bool {
        claim(bottom, bytes: bytes, from: 0, to: granules)
    }

    /// `bytes` from `bottom`, marked in use when they all lie among granules `first..<end`
    /// and are free.
    mutating func claim(_ bottom: UInt32, bytes: UInt32, from first: Int, to end: Int) -> Bool {
        guard bottom >= start, bottom & (SegmentPool.granuleBytes &- 1) == 0 else { return false }
        let lowest = Int((bottom &- start) >> SegmentPool.granuleShift)
        let count = Int(bytes >> SegmentPool.granuleShift)
        guard lowest >= first, lowest &+ count <= end else { return false }
        for granule in lowest..<(lowest &+ count) where bitmap[granule >> 5] & (1 &<< UInt32(granule & 31)) != 0 { return false }
        mark(lowest, count: count, used: true)
        return true
    }

    /// The highest free run of `bytes` among granules `first..<end`, marked in use; nil if none.
    /// The highest, so that what is free below a new segment lets it grow down in place
    /// (SegmentedStacks.growInPlace) when the task goes deeper, instead of splitting again:
    /// one growth costs a task only the bytes its frames take, a split its header and slack
    /// once more.
    mutating func allocate(_ bytes: UInt32, from first: Int, to end: Int) -> UInt32? {
        let needed = Int(bytes >> SegmentPool.granuleShift)
        guard needed > 0 else { return nil }
        var run = 0
        var granule = end
        while granule > first {
            granule &-= 1
            let word = bitmap[granule >> 5]
            if run == 0 && granule & 31 == 31 && word == 0xFFFF_FFFF && granule &- 31 >= first {
                granule &-= 31  // a full word: nothing free in it
                continue
            }
            if word & (1 &<< UInt32(granule & 31)) == 0 {
                run &+= 1
                if run == needed {
                    mark(granule, count: needed, used: true)
                    return start &+ (UInt32(granule) &<< SegmentPool.granuleShift)
                }
            } else {
                run = 0
            }
        }
        return nil
    }

    private mutating func mark(_ first: Int, count: Int, used: Bool) {
        for granule in first..<(first &+ count) {
            let bit: UInt32 = 1 &<< UInt32(granule & 31)
            if used { bitmap[granule >> 5] |= bit } else { bitmap[granule >> 5] &= ~bit }
        }
    }
}
