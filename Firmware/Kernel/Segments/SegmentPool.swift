// The segment pool: one block of RAM that every segmented task's extra segments come from.
//
// The pool is cut into 64-byte granules with one bit each (set: in use); a segment is a run
// of granules, found first-fit. A bitmap rather than a free list because segments differ in
// size (a frame over the usual segment size gets a larger one) and freeing must merge
// neighbours without a walk. The scan only runs on the slow path: a task keeps one released
// segment as its spare (SegmentedStacks.swift), so a loop that splits at the same point
// every iteration never reaches the pool. Callers mask interrupts: the pool is shared.

#if KEEL_SPLIT_STACK

struct SegmentPool {
    static let granuleBytes: UInt32 = 64
    static let granuleShift: UInt32 = 6
    /// 32 words of bits: 1024 granules, a 64 KiB pool (the manifest enforces the limit).
    static let maximumGranules = 1024

    var start: UInt32 = 0
    var granules = 0
    var bitmap = InlineArray<32, UInt32>(repeating: 0)
    var freeBytes: UInt32 = 0
    /// Fewest free bytes there ever were.
    var lowestFreeBytes: UInt32 = 0
    /// Segments handed out and taken back since boot.
    var allocations: UInt32 = 0
    var releases: UInt32 = 0
    /// Tasks' requests for a segment that were refused, by the pool or by the task's `max`
    /// (the pool's own here; those at a task's `max` in `SegmentedStacks.stopRefusedTask`).
    var refusals: UInt32 = 0

    var totalBytes: UInt32 { UInt32(granules) &<< SegmentPool.granuleShift }

    mutating func configure(start: UInt32, bytes: UInt32) {
        self.start = start
        granules = min(Int(bytes >> SegmentPool.granuleShift), SegmentPool.maximumGranules)
        freeBytes = totalBytes
        lowestFreeBytes = freeBytes
        for word in 0..<32 { bitmap[word] = 0 }
    }

    /// The lowest address of a free run of `bytes` (a multiple of the granule), or nil.
    mutating func allocate(_ bytes: UInt32) -> UInt32? {
        let needed = Int(bytes >> SegmentPool.granuleShift)
        var run = 0
        var granule = 0
        while granule < granules {
            let word = bitmap[granule >> 5]
            if run == 0 && granule & 31 == 0 && word == 0xFFFF_FFFF {
                granule &+= 32  // a full word: nothing free in it
                continue
            }
            if word & (1 &<< UInt32(granule & 31)) == 0 {
                run &+= 1
                if run == needed {
                    let first = granule &- needed &+ 1
                    mark(first, count: needed, used: true)
                    freeBytes &-= bytes
                    lowestFreeBytes = min(lowestFreeBytes, freeBytes)
                    allocations &+= 1
                    return start &+ (UInt32(first) &<< SegmentPool.granuleShift)
                }
            } else {
                run = 0
            }
            granule &+= 1
        }
        refusals &+= 1
        return nil
    }

    mutating func free(_ bottom: UInt32, bytes: UInt32) {
        let first = Int((bottom &- start) >> SegmentPool.granuleShift)
        mark(first, count: Int(bytes >> SegmentPool.granuleShift), used: false)
        freeBytes &+= bytes
        releases &+= 1
    }

    private mutating func mark(_ first: Int, count: Int, used: Bool) {
        for granule in first..<(first &+ count) {
            let bit: UInt32 = 1 &<< UInt32(granule & 31)
            if used { bitmap[granule >> 5] |= bit } else { bitmap[granule >> 5] &= ~bit }
        }
    }
}

#endif
