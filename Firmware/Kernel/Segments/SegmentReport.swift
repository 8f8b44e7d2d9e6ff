// What segmented stacks cost, as tasks ask for it and as the shutdown report prints it.
//
//   keel:segments task=worker initial=1024 max=8192 current=1 current_bytes=1024 peak=5
//                 peak_bytes=5120 splits=812 pool_allocations=4 spare_bytes=1024 slack_peak=136
//   keel:segment-pool bytes=8192 free=8192 lowest_free=3072 allocations=9 releases=9
//                     refusals=1 grown_in_place=2 ticks_in_morestack=17 slack=384
//
// `keel run` turns these into the segment table; the tests check the pool's accounting
// (free bytes back to the total once every task has stopped) from the same lines.

#if KEEL_SPLIT_STACK

/// One task's segments, for `Keel.segments`.
public struct SegmentInfo {
    public var heldBytes: UInt32
    public var segments: UInt32
    public var peakBytes: UInt32
    public var peakSegments: UInt32
    public var splits: UInt32
    public var poolAllocations: UInt32
    /// Bytes of the released segments the task keeps above the one in use, for its next
    /// splits (0: none). Included in `heldBytes` and `segments`.
    public var spareBytes: UInt32
}

/// The pool, for `Keel.segmentPool`.
public struct SegmentPoolInfo {
    public var totalBytes: UInt32
    public var freeBytes: UInt32
    public var lowestFreeBytes: UInt32
    public var allocations: UInt32
    public var releases: UInt32
    public var refusals: UInt32
    /// Bytes all tasks keep above their segments in use (counted as in use by `freeBytes`).
    public var spareBytes: UInt32
    public var ticksInsideMoreStack: UInt32
}

extension SegmentedStacks {
    static func info(_ task: TaskPointer) -> SegmentInfo {
        let chain = self.chain(task)
        return SegmentInfo(heldBytes: chain.pointee.heldBytes, segments: chain.pointee.segments, peakBytes: chain.pointee.peakBytes,
                           peakSegments: chain.pointee.peakSegments, splits: chain.pointee.splits,
                           poolAllocations: chain.pointee.poolAllocations, spareBytes: keptBytes(chain))
    }

    static var poolInfo: SegmentPoolInfo {
        var spares: UInt32 = 0
        for index in 0..<(scheduler.taskCount &- 1) { spares &+= info(Scheduler.task(index)).spareBytes }
        return SegmentPoolInfo(totalBytes: pool.totalBytes, freeBytes: pool.freeBytes, lowestFreeBytes: pool.lowestFreeBytes,
                               allocations: pool.allocations, releases: pool.releases, refusals: pool.refusals,
                               spareBytes: spares, ticksInsideMoreStack: ticksInsideMoreStack)
    }

    /// The shutdown lines: one per segmented task, then the pool.
    static func report() {
        for index in 0..<(scheduler.taskCount &- 1) {
            let task = Scheduler.task(index)
            let chain = self.chain(task)
            guard chain.pointee.maximumBytes != 0 else { continue }
            if chain.pointee.current == firstHeader(chain) { measureSlack(chain, segmentBottom: chain.pointee.first.bottom) }
            let info = self.info(task)
            Console.write("keel:segments task=")
            Console.write(task.pointee.name)
            field(" initial=", task.pointee.stackBytes)
            field(" max=", chain.pointee.maximumBytes)
            field(" current=", info.segments)
            field(" current_bytes=", info.heldBytes)
            field(" peak=", info.peakSegments)
            field(" peak_bytes=", info.peakBytes)
            field(" splits=", info.splits)
            field(" pool_allocations=", info.poolAllocations)
            field(" spare_bytes=", info.spareBytes)
            field(" slack_peak=", chain.pointee.slackPeak)
            Console.write("\n")
        }
        guard pool.totalBytes > 0 else { return }
        let pool = poolInfo
        Console.write("keel:segment-pool")
        field(" bytes=", pool.totalBytes)
        field(" free=", pool.freeBytes)
        field(" lowest_free=", pool.lowestFreeBytes)
        field(" allocations=", pool.allocations)
        field(" releases=", pool.releases)
        field(" refusals=", pool.refusals)
        field(" grown_in_place=", SegmentedStacks.pool.growths)
        field(" spare_bytes=", pool.spareBytes)
        field(" ticks_in_morestack=", pool.ticksInsideMoreStack)
        field(" slack=", slackBytes)
        Console.write("\n")
    }

    private static func field(_ name: StaticString, _ value: UInt32) {
        Console.write(name)
        Console.write(decimal: value)
    }
}

#endif
