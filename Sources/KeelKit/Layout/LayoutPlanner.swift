// The layout planner: places every stack and guard under the board's MPU rules and computes
// the MPU register words each task's switch-in loads.
//
// RAM, from the bottom, on a board with an MPU:
//
//   [T2 stacks: the "stack block", PMSAv7 only] [T3 guards + stacks, other stacks, idle]
//   [segment pool (when a task's stack is segmented)]
//   [handler guard (PMSAv7)] [handler stack] [data, bss, heap] [reset record]
//
// A guard only catches an overflow whose first write lands in it: a frame larger than the
// guard can step over it. So guards are sized by the manifest (`guard`, `handler_guard`),
// never below one exception frame, and `keel check` (static analysis) flags larger frames.
//
// - PMSAv7 (M3): T2 works as seed 003 draws it. Fixed low-numbered regions make the whole
//   stack block no-access; the running task's stack is given back read-write by region 7,
//   which wins because it has the highest number. Only T2 stacks are in that block: a stack
//   without T2 would need a power-of-two region of its own to be usable while it runs, so
//   stacks of tasks without T2 stay writable to everyone (give every task T2 to isolate all).
//   A T2 task that also asks for T3 needs no guard: the block below it is its guard. So the T2 stacks must each fit a
//   power-of-two region: a stack of B bytes gets the smallest region S >= B, is padded to
//   whole eighths of S (sub-regions), and is placed on an eighth boundary without crossing an
//   S boundary. Padding is then below S/8, not the S - B of plain power-of-two rounding.
//   Stacks are placed largest region first; each also tries a region of 2S and 4S (coarser
//   eighths, more padding, looser placement), in the gaps and at the end, and takes the
//   placement that loses the fewest bytes. Padding stays below an eighth of its region.
//   A T3 guard is a power-of-two region aligned to its size, directly below its stack.
// - PMSAv8 (M33): regions may not overlap, so T2 cannot "give back" one stack inside a
//   no-access block. Instead each T2 switch-in loads two regions: read-only from the lowest
//   stack up to the running stack, and from the running stack up to the last stack. Every
//   stack and guard is on the 32-byte granule.
// - The handler stack sits above every task stack. On PMSAv7 a 32-byte no-access guard
//   lies under it (an overflow of a handler is caught before it writes); on PMSAv8 MSPLIM
//   is its limit. A board without an MPU keeps the handler stack at the very bottom of
//   RAM, where its overflow runs off the end of RAM.

public enum LayoutPlanner {
    public static let idleStackBytes: UInt32 = 512
    /// What must stay free for .data, .bss and a minimal heap.
    public static let minimumDataBytes: UInt64 = 2048
    /// The basic exception frame (r0-r3, r12, lr, pc, xPSR). Keel builds soft-float and never
    /// sets CONTROL.FPCA, so the hardware never pushes the 104-byte extended frame.
    public static let basicFrameBytes: UInt32 = 32
    /// The extended frame with the floating-point context (26 words) plus the alignment word.
    public static let extendedFrameBytes: UInt32 = 108

    /// PMSAv7 region numbers the switch-in writes: the T3 guard (or the guard under the lowest
    /// T2 stack) and, highest so that it wins, the running T2 stack.
    static let pmsav7SwitchRegions = 6
    /// PMSAv8: the two switch regions come first; MPU_RNR is set to 0 once at boot.
    static let pmsav8SwitchRegions = 0

    public static func plan(_ application: Application, on board: Board,
                            floatingPointFrames: Bool = false) throws(KeelError) -> RAMLayout {
        var planner = Planner(application: application, board: board,
                              frameBytes: floatingPointFrames ? extendedFrameBytes : basicFrameBytes)
        return try planner.plan()
    }
}

private struct Planner {
    let application: Application
    let board: Board
    let frameBytes: UInt32
    let origin: UInt64
    let ramEnd: UInt64
    let mpu: MPUKind

    var cursor: UInt64
    var placed: [Int: StackPlacement] = [:]
    /// The segment pool, once placed (directly below the first segmented task's first segment).
    var pool: StackPlacement? = nil
    var waste = LayoutWaste()
    var fixedRegions: [MPURegion] = []
    /// [start, end) of the PMSAv7 T2 block as covered by the no-access regions.
    var t2Block: Range<UInt64>? = nil

    init(application: Application, board: Board, frameBytes: UInt32) {
        self.application = application
        self.board = board
        self.frameBytes = frameBytes
        self.origin = UInt64(board.ram.origin)
        self.ramEnd = board.ram.end
        self.mpu = board.mpu
        self.cursor = UInt64(board.ram.origin)
    }

    var tasks: [TaskSpec] { application.tasks }

    func uses(_ protection: Protection, _ index: Int) -> Bool { tasks[index].protections.contains(protection) }

    mutating func plan() throws(KeelError) -> RAMLayout {
        try checkFits()
        let handlerBytes = UInt64(application.handlerStackBytes)
        // No MPU: the handler stack goes first, so its overflow runs off the bottom of RAM.
        var handler = StackPlacement(name: "handler", bottom: board.ram.origin, bytes: UInt32(handlerBytes))
        if mpu == .none {
            cursor += handlerBytes
            placeInOrder(Array(tasks.indices), granule: 8)
        } else {
            if mpu == .pmsav7 { try placeRegionStacks() }
            try placeGuardedAndPlainStacks()
        }
        if application.segmentPoolBytes > 0 && pool == nil { placePool() }
        let idleBottom = roundUp(cursor, mpu == .none ? 8 : 32)
        waste.alignment += UInt32(idleBottom - cursor)
        let idle = StackPlacement(name: "idle", bottom: UInt32(idleBottom), bytes: LayoutPlanner.idleStackBytes)
        cursor = idleBottom + UInt64(LayoutPlanner.idleStackBytes)
        let stacksEnd = cursor
        if mpu != .none {
            var handlerGuard: UInt32 = 0
            var bottom = roundUp(cursor, 8)
            if mpu == .pmsav7 {
                // A no-access region, at least one exception frame (a power of two, on its own size).
                handlerGuard = PMSAv7.regionSize(for: max(UInt32(application.handlerGuardBytes), frameBytes))
                bottom = roundUp(cursor, UInt64(handlerGuard)) + UInt64(handlerGuard)
            }
            waste.alignment += UInt32(bottom - UInt64(handlerGuard) - cursor)
            handler = StackPlacement(name: "handler", bottom: UInt32(bottom), bytes: UInt32(handlerBytes), guardBytes: handlerGuard)
            cursor = bottom + handlerBytes
            if handlerGuard > 0 {
                fixedRegions.append(MPURegion(number: fixedRegions.count, base: handler.guardBottom, size: handlerGuard,
                                              access: .noAccess, purpose: "guard of the handler stack"))
            }
        }
        let dataStart = roundUp(cursor, 8)
        let record = ramEnd - UInt64(RAMLayout.resetRecordBytes)
        guard dataStart + minimumData <= record else {
            let stackBytes = dataStart - origin
            throw .layoutImpossible("stacks, guards and padding need \(stackBytes) bytes and data at least "
                + "\(minimumData)\(poolsPart), but \(board.name) has \(board.ram.length) bytes of RAM")
        }
        try checkRegionCount()

        let taskStacks = tasks.indices.map { placed[$0]! }
        var layout = RAMLayout(
            board: board.name, mpu: mpu, handlerStack: handler, taskStacks: taskStacks, idleStack: idle,
            fixedRegions: fixedRegions, switchRegions: [], idleSwitchRegions: SwitchRegions(regions: [], words: []),
            firstSwitchRegion: mpu == .pmsav7 ? LayoutPlanner.pmsav7SwitchRegions : LayoutPlanner.pmsav8SwitchRegions,
            stacksStart: (taskStacks.map(\.guardBottom) + [idle.bottom]).min()!,
            stacksEnd: UInt32(stacksEnd),
            dataStart: UInt32(dataStart), dataEnd: UInt32(record), resetRecord: UInt32(record),
            ramStart: board.ram.origin, ramEnd: ramEnd, waste: waste)
        layout.segmentPool = pool
        layout.memoryPools = application.objects.pools.map { MemoryPoolStorage(name: $0.name, headerBytes: $0.headerBytes, blockBytes: $0.stride * $0.count) }
        layout.waste.powerOfTwoBaseline = powerOfTwoBaseline()
        layout.switchRegions = tasks.indices.map { switchRegions(for: $0, layout: layout) }
        layout.idleSwitchRegions = disabledSwitch()
        return layout
    }

    // MARK: Checks

    func checkFits() throws(KeelError) {
        let requested = UInt64(application.handlerStackBytes)
            + tasks.reduce(UInt64(0)) { $0 + UInt64($1.stackBytes) + UInt64($1.guardBytes) }
            + UInt64(LayoutPlanner.idleStackBytes) + UInt64(application.segmentPoolBytes)
        guard requested + minimumData + UInt64(RAMLayout.resetRecordBytes) <= UInt64(board.ram.length) else {
            throw .layoutImpossible(
                "stacks need \(requested) bytes and data at least \(minimumData)\(poolsPart), but \(board.name) has \(board.ram.length) bytes of RAM")
        }
    }

    /// The least data, bss and heap an image needs: the kernel's minimum and the memory pools.
    var minimumData: UInt64 { LayoutPlanner.minimumDataBytes + UInt64(application.objects.poolBytes) }
    var poolsPart: String {
        application.objects.pools.isEmpty ? "" : " (\(application.objects.poolBytes) of it the memory pools)"
    }

    func checkRegionCount() throws(KeelError) {
        guard mpu != .none else { return }
        let needed = fixedRegions.count + 2
        let available = board.mpuRegions
        let fixedLimit = mpu == .pmsav7 ? LayoutPlanner.pmsav7SwitchRegions : available - 2
        guard needed <= available, fixedRegions.count <= fixedLimit else {
            throw .layoutImpossible("the plan needs \(needed) MPU regions (\(fixedRegions.count) fixed, 2 switched), but \(board.name) has \(available)")
        }
    }

    // MARK: PMSAv7 T2 stacks

    /// Places the T2 stacks (PMSAv7) from the bottom of RAM and covers them with no-access regions.
    mutating func placeRegionStacks() throws(KeelError) {
        struct Slot { var index: Int; var padded: UInt64; var granule: UInt64; var window: UInt64 }
        /// A stack in a region of `window` bytes: padded to whole eighths of it.
        func slot(_ index: Int, window: UInt64) -> Slot {
            let granule = window >= 256 ? window / 8 : window
            return Slot(index: index, padded: roundUp(UInt64(tasks[index].stackBytes), granule), granule: granule, window: window)
        }
        var order = tasks.indices.filter { uses(.mpuRegion, $0) }.map { slot($0, window: UInt64(PMSAv7.regionSize(for: UInt32(tasks[$0].stackBytes)))) }
        guard !order.isEmpty else { return }
        order.sort { ($0.window, $0.padded, -$0.index) > ($1.window, $1.padded, -$1.index) }

        func feasible(from start: UInt64, _ slot: Slot) -> UInt64 {
            var base = roundUp(start, slot.granule)
            if base % slot.window + slot.padded > slot.window { base = roundUp(base, slot.window) }
            return base
        }
        var gaps: [Range<UInt64>] = []
        for first in order {
            // Candidates: the smallest region, and one or two sizes up (coarser eighths: more
            // padding, but the stack may then sit where the small window would leave a gap).
            // Each is tried in the gaps and at the end; the one losing the fewest bytes wins.
            var best: (cost: UInt64, base: UInt64, slot: Slot, gap: Int?)? = nil
            for window in [first.window, first.window * 2, first.window * 4] {
                let candidate = slot(first.index, window: window)
                let padding = candidate.padded - UInt64(tasks[first.index].stackBytes)
                for (gapIndex, gap) in gaps.enumerated() {
                    let base = feasible(from: gap.lowerBound, candidate)
                    if base + candidate.padded <= gap.upperBound, best == nil || padding < best!.cost {
                        best = (padding, base, candidate, gapIndex)
                    }
                }
                let base = feasible(from: cursor, candidate)
                let cost = padding + (base - cursor)
                if best == nil || cost < best!.cost { best = (cost, base, candidate, nil) }
            }
            let (_, base, chosen, gapIndex) = best!
            if let gapIndex {
                let gap = gaps.remove(at: gapIndex)
                if gap.lowerBound < base { gaps.append(gap.lowerBound..<base) }
                if base + chosen.padded < gap.upperBound { gaps.append(base + chosen.padded..<gap.upperBound) }
            } else {
                if base > cursor { gaps.append(cursor..<base) }
                cursor = base + chosen.padded
            }
            gaps.sort { $0.lowerBound < $1.lowerBound }
            let task = tasks[chosen.index]
            placed[chosen.index] = StackPlacement(name: task.name, bottom: UInt32(base), bytes: UInt32(chosen.padded),
                                                  requestedBytes: UInt32(task.stackBytes), regionBytes: UInt32(chosen.window))
            waste.padding += UInt32(chosen.padded) - UInt32(task.stackBytes)
        }
        waste.alignment += UInt32(gaps.reduce(0) { $0 + ($1.upperBound - $1.lowerBound) })

        // Cover [origin, cursor) with one region, or two when that leaves less uncovered-but-blocked RAM.
        let regions = coveringRegions(from: origin, to: cursor)
        let coveredEnd = regions.flatMap(\.covered).map(\.upperBound).max() ?? cursor
        waste.coverage = UInt32(coveredEnd - cursor)
        t2Block = origin..<coveredEnd
        cursor = coveredEnd
        fixedRegions += regions
    }

    /// No-access PMSAv7 regions whose enabled sub-regions cover [start, end): whole power-of-two
    /// regions while they fit, then one with sub-regions for the rest. Up to five regions (the
    /// handler guard takes the sixth fixed slot); the last one's overshoot is what is lost.
    func coveringRegions(from start: UInt64, to end: UInt64) -> [MPURegion] {
        let purpose = "T2 stacks: no access unless running"
        let available = LayoutPlanner.pmsav7SwitchRegions - 1
        /// One legal region from `base` (or below it, on its alignment: the bytes below are
        /// blocked already) to at least `end`, trimmed to eighths.
        func single(_ base: UInt64, _ end: UInt64, number: Int) -> MPURegion {
            var size = UInt64(PMSAv7.regionSize(for: UInt32(end - base)))
            while base / size * size + size < end { size *= 2 }
            let regionBase = base / size * size
            var disabled: UInt8 = 0
            if size >= 256 {
                let eighth = size / 8
                for index in 0..<8 {
                    let from = regionBase + UInt64(index) * eighth
                    if from >= end || from + eighth <= max(regionBase, start) { disabled |= 1 << index }
                }
            }
            return MPURegion(number: number, base: UInt32(regionBase), size: UInt32(size), disabledSubregions: disabled,
                             access: .noAccess, purpose: purpose)
        }
        func overshoot(_ region: MPURegion) -> UInt64 { (region.covered.map(\.upperBound).max() ?? end) - end }
        var regions: [MPURegion] = []
        var base = start
        while base < end {
            let last = single(base, end, number: regions.count)
            // The largest whole region that starts here (aligned to its size) and fits.
            var size: UInt64 = 32
            while size * 2 <= end - base && base % (size * 2) == 0 { size *= 2 }
            if overshoot(last) == 0 || regions.count == available - 1 || size > end - base {
                regions.append(last)
                break
            }
            regions.append(MPURegion(number: regions.count, base: UInt32(base), size: UInt32(size), access: .noAccess, purpose: purpose))
            base += size
        }
        return regions
    }

    // MARK: Guarded and plain stacks

    /// T3 stacks (largest guard first, each guard aligned for its MPU), then every other stack.
    mutating func placeGuardedAndPlainStacks() throws(KeelError) {
        let rest = tasks.indices.filter { placed[$0] == nil }
        let guarded = rest.filter { uses(.mpuGuard, $0) }.sorted { guardSize($0) > guardSize($1) }
        for (position, index) in guarded.enumerated() {
            let guardBytes = UInt64(guardSize(index))
            let alignment = mpu == .pmsav7 ? guardBytes : UInt64(PMSAv8.granule)
            let guardBase = roundUp(cursor, alignment)
            waste.alignment += UInt32(guardBase - cursor)
            let bottom = guardBase + guardBytes
            // Pad the stack so the next guard stays aligned: the bytes are the task's, not a gap.
            // The last guarded stack has no guard after it and needs only the granule.
            let isLast = position == guarded.count - 1
            let bytes = roundUp(UInt64(tasks[index].stackBytes), isLast ? (mpu == .pmsav8 ? UInt64(PMSAv8.granule) : 8) : alignment)
            waste.padding += UInt32(bytes) - UInt32(tasks[index].stackBytes)
            placed[index] = StackPlacement(name: tasks[index].name, bottom: UInt32(bottom), bytes: UInt32(bytes),
                                           requestedBytes: UInt32(tasks[index].stackBytes), guardBytes: UInt32(guardBytes))
            cursor = bottom + bytes
        }
        // PMSAv8 T2 regions start and end at stack boundaries, so every stack is on the granule.
        placeInOrder(rest.filter { placed[$0] == nil }, granule: mpu == .pmsav8 ? UInt64(PMSAv8.granule) : 8)
    }

    /// The segment pool, 64-byte aligned (its granule), at the cursor.
    mutating func placePool() {
        let bottom = roundUp(cursor, UInt64(SegmentedStack.granuleBytes))
        waste.alignment += UInt32(bottom - cursor)
        pool = StackPlacement(name: "segment pool", bottom: UInt32(bottom), bytes: UInt32(application.segmentPoolBytes))
        cursor = bottom + UInt64(application.segmentPoolBytes)
    }

    /// Stacks one after another. Segmented tasks go last, on top of the segment pool: the
    /// first of them sits directly on it, so its first segment can grow down into the pool
    /// in place (SegmentedStacks.growInPlace) instead of splitting.
    mutating func placeInOrder(_ indices: [Int], granule: UInt64) {
        let fixed = indices.filter { tasks[$0].segmented == nil }, segmented = indices.filter { tasks[$0].segmented != nil }
        placeEach(fixed, granule: granule)
        if !segmented.isEmpty && application.segmentPoolBytes > 0 && pool == nil { placePool() }
        // Under the segment guard (M3) a segment's bottom is the base of a 32-byte region.
        placeEach(segmented, granule: application.usesSegmentGuard(on: board) ? UInt64(SegmentedStack.guardBytes) : granule)
    }

    mutating func placeEach(_ indices: [Int], granule: UInt64) {
        for index in indices {
            let bottom = roundUp(cursor, granule)
            waste.alignment += UInt32(bottom - cursor)
            let bytes = roundUp(UInt64(tasks[index].stackBytes), granule)
            waste.padding += UInt32(bytes) - UInt32(tasks[index].stackBytes)
            placed[index] = StackPlacement(name: tasks[index].name, bottom: UInt32(bottom), bytes: UInt32(bytes),
                                           requestedBytes: UInt32(tasks[index].stackBytes))
            cursor = bottom + bytes
        }
    }

    /// A T3 guard: at least what was asked and one exception frame, on the MPU's terms.
    func guardSize(_ index: Int) -> UInt32 {
        let wanted = max(UInt32(tasks[index].guardBytes), frameBytes)
        return mpu == .pmsav7 ? PMSAv7.regionSize(for: wanted) : UInt32(roundUp(UInt64(wanted), UInt64(PMSAv8.granule)))
    }

    func powerOfTwoBaseline() -> UInt32 {
        tasks.filter { $0.protections.contains(.mpuRegion) || $0.protections.contains(.mpuGuard) }
            .reduce(0) { $0 + PMSAv7.regionSize(for: UInt32($1.stackBytes)) - UInt32($1.stackBytes) }
    }

    // MARK: Switch-in regions

    func disabledSwitch() -> SwitchRegions {
        switch mpu {
        case .pmsav7:
            SwitchRegions(regions: [], words: PMSAv7.disabledWords(number: LayoutPlanner.pmsav7SwitchRegions)
                + PMSAv7.disabledWords(number: LayoutPlanner.pmsav7SwitchRegions + 1))
        case .pmsav8, .none:
            SwitchRegions(regions: [], words: PMSAv8.disabledWords + PMSAv8.disabledWords)
        }
    }

    func switchRegions(for index: Int, layout: RAMLayout) -> SwitchRegions {
        guard mpu != .none else { return disabledSwitch() }
        let stack = placed[index]!
        let name = tasks[index].name
        let first = layout.firstSwitchRegion
        var slotA: MPURegion? = nil
        var slotB: MPURegion? = nil
        if mpu == .pmsav7 && tasks[index].segmented != nil && application.usesSegmentGuard(on: board) {
            // A segmented task has no T2 or T3 region; the kernel moves this one with its
            // segment in use (SegmentGuard.swift): here, on its first segment, above the
            // 32 bytes where a fault's exception frame lands.
            slotA = MPURegion(number: first, base: stack.bottom + SegmentedStack.guardLandingBytes, size: 32, access: .noAccess,
                              purpose: "segment guard of \(name): near the bottom of its segment in use, moved with it")
        }
        if uses(.mpuGuard, index) && stack.guardBytes > 0 {
            slotA = MPURegion(number: first, base: stack.guardBottom, size: stack.guardBytes, access: .noAccess,
                              purpose: "T3 guard of \(name)")
        }
        if uses(.mpuRegion, index) {
            // The first T2 stack has nothing blocked below it (or only the end of RAM): give it a guard too.
            let lowestStack = mpu == .pmsav7 ? UInt32(t2Block?.lowerBound ?? 0) : layout.stacksStart
            // (On PMSAv7 a T2 stack has no guard of its own: the no-access block below is its guard.)
            if stack.guardBottom <= lowestStack && stack.guardBytes == 0 {
                let size = mpu == .pmsav7 ? PMSAv7.regionSize(for: frameBytes) : UInt32(roundUp(UInt64(frameBytes), 32))
                slotA = MPURegion(number: first, base: stack.guardBottom &- size, size: size, access: .noAccess,
                                  purpose: "T2 guard below \(name), the lowest stack")
            }
            switch mpu {
            case .pmsav7:
                // Region 7 gives the running stack back inside the no-access block: whole eighths.
                let window = stack.regionBytes
                let base = stack.bottom / window * window
                var disabled: UInt8 = 0
                if window >= 256 {
                    let eighth = window / 8
                    for subregion in 0..<8 {
                        let start = base &+ UInt32(subregion) &* eighth
                        if start < stack.bottom || start >= stack.top { disabled |= 1 << subregion }
                    }
                }
                slotB = MPURegion(number: first + 1, base: base, size: window, disabledSubregions: disabled,
                                  access: .readWrite, purpose: "T2 stack of \(name), read-write while it runs")
            case .pmsav8:
                // No overlap allowed: block what lies below and above the running stack separately.
                // (The region below also covers the task's own T3 guard, if it has one.)
                let low = layout.stacksStart, high = layout.stacksEnd
                if stack.guardBottom > low {
                    slotA = MPURegion(number: first, base: low, size: stack.bottom - low, access: .noAccess,
                                      purpose: slotA?.purpose ?? "T2: stacks below \(name)")
                }
                if stack.top < high {
                    slotB = MPURegion(number: first + 1, base: stack.top, size: high - stack.top, access: .noAccess,
                                      purpose: "T2: stacks above \(name)")
                }
            case .none:
                break
            }
        }
        let disabled = disabledSwitch().words
        let wordsA = slotA?.registerWords(for: mpu) ?? Array(disabled[0..<2])
        let wordsB = slotB?.registerWords(for: mpu) ?? Array(disabled[2..<4])
        return SwitchRegions(regions: [slotA, slotB].compactMap { $0 }, words: wordsA + wordsB)
    }
}

func roundUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
    (value + alignment - 1) / alignment * alignment
}
