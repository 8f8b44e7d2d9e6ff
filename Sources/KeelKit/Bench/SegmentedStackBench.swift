// What segmented stacks cost, in executed instructions and in RAM, against fixed stacks.
//
// Instructions (Firmware/Examples/bench-segmented, one worker task, no tick; every figure is
// counted between the two markers, twice, and must repeat exactly):
//   sort, fib and filter on a large fixed stack as Thumb-2 (the board's own code, M3/M33), as
//   Thumb-1, and as the board's own code with the split prologue ("split fixed": Thumb-2 on
//   the M3 and M33 since issue 15, Thumb-1 on the M0); then segmented (640-byte first
//   segment). The split builds are measured twice: with the prologue on all task code ("all
//   checked", the route before issue 5), and with it taken off what the analysis proved fits
//   in the slack (nosplit, the default). On the M3 and M33 "thumb-1 segmented" is the Thumb-1
//   split route they ran before issue 15 (nosplit), kept as history: three more images.
//   Issue 15's targets compare segmented (nosplit) with thumb-2 fixed on the M3 and M33.
//   The hot split: 20000 calls at the first segment's boundary against the same calls with
//   room (a 2 KiB first segment), with the default pool, under which the first call grows
//   the segment down in place; and the same two with the bench's `SplittingPool`, which
//   never lets a segment grow in place: there the difference per call is one grow + release
//   round trip through __morestack, served by the segment the task keeps. On the M3 the two
//   splitting runs again without the segment guard (`"segment_guard": false`): the
//   difference per call is what the MPU region that follows the segment costs a round trip.
// RAM (Firmware/Examples/segmented-ram, six tasks with deep phases at different times):
//   segmented peak = first segments + the pool's peak use; fixed = each task's high-water
//   mark on a large painted stack (the same instruction set), rounded up to a power of two on
//   PMSAv7 (where an MPU region must cover each stack) and to 8 bytes elsewhere.

import Foundation

public struct SegmentedBenchResult: Sendable, Codable {
    public var board: String
    /// Instructions for the sort: "thumb-2 fixed", "thumb-1 fixed", "split fixed", "segmented",
    /// "segmented all checked" (every task function keeps the prologue) and "thumb-1 segmented"
    /// (the Thumb-1 split route, M3 and M33 only).
    public var sort: [String: UInt64] = [:]
    public var fib: [String: UInt64] = [:]
    public var filter: [String: UInt64] = [:]
    /// The hot loop with the default pool (the first call grows the segment in place).
    public var boundaryInstructions: UInt64 = 0
    public var awayInstructions: UInt64 = 0
    /// The same with the bench's `SplittingPool`, which never grows in place: every call at the
    /// boundary is a grow + release through `__morestack`.
    public var splittingBoundaryInstructions: UInt64 = 0
    public var splittingAwayInstructions: UInt64 = 0
    /// The M3's splitting runs without the segment guard (0 on boards without one).
    public var unguardedSplittingBoundaryInstructions: UInt64 = 0
    public var unguardedSplittingAwayInstructions: UInt64 = 0
    public var hasSegmentGuard: Bool { unguardedSplittingBoundaryInstructions != 0 }
    public var boundaryCalls = 0
    public var exact = true
    /// Functions the filter image's build took the check off (nosplit).
    public var nosplitFunctions = 0
    public var ram: SegmentedRAM?

    public var roundTrip: Double {
        Double(splittingBoundaryInstructions - min(splittingAwayInstructions, splittingBoundaryInstructions)) / Double(max(boundaryCalls, 1))
    }
    /// One round trip without the segment guard (M3): `roundTrip` less this is the guard's price.
    public var roundTripWithoutGuard: Double {
        Double(unguardedSplittingBoundaryInstructions - min(unguardedSplittingAwayInstructions, unguardedSplittingBoundaryInstructions))
            / Double(max(boundaryCalls, 1))
    }
    public var hotSplitRatio: Double { Double(boundaryInstructions) / Double(max(awayInstructions, 1)) }

    public static func ratio(_ table: [String: UInt64], _ a: String, _ b: String) -> Double? {
        guard let x = table[a], let y = table[b], y > 0 else { return nil }
        return Double(x) / Double(y)
    }

    /// The fixed-stack row built from the same instruction set as the split rows.
    public static func ownFixed(_ table: [String: UInt64]) -> String {
        table["thumb-2 fixed"] == nil ? "thumb-1 fixed" : "thumb-2 fixed"
    }

    /// Issue 15's bound on segmented (nosplit) against thumb-2 fixed (M3 and M33): nil for a
    /// load it sets none for.
    public static func target(load: String) -> Double? {
        switch load {
        case "sort", "filter": 1.10
        case "fib": 1.30
        default: nil
        }
    }
}

public struct SegmentedRAM: Sendable, Codable {
    public var tasks: Int
    public var firstSegments: Int
    public var poolPeak: Int
    public var fixedNeed: Int
    public var roundedToPowerOfTwo: Bool
    public var segmentedPeak: Int { firstSegments + poolPeak }
    public var ratio: Double { Double(segmentedPeak) / Double(max(fixedNeed, 1)) }
}

public struct SegmentedStackBench: Sendable {
    public var bench: ContextSwitchBench
    public static let hotCalls = 20_000
    public static let fixedBytes = 8192

    public init(bench: ContextSwitchBench) { self.bench = bench }

    public func measure(on board: Board) throws(KeelError) -> SegmentedBenchResult {
        var result = SegmentedBenchResult(board: board.name, boundaryCalls: Self.hotCalls)
        let base = try ContextSwitchBench.example("bench-segmented", board: board)
        var routes: [(String, CodeRoute, Bool, Bool)] = [
            ("thumb-1 fixed", .thumb1, false, true),
            ("segmented all checked", .splitStack, true, false),
            ("split fixed", .splitStack, false, true), ("segmented", .splitStack, true, true),
            (Self.prologueCheckLabel, .splitStack, false, true)]
        if board.architecture != .armv6m {
            routes.insert(("thumb-2 fixed", .native, false, true), at: 0)
            routes.append(("thumb-1 segmented", .thumb1SplitStack, true, true))
        }
        let loads = [("sortTask", "sort"), ("fibTask", "fib"), ("filterTask", "filter")]
        bench.builder.buildAll(loads.flatMap { entry, name in
            routes.map { label, route, segmented, nosplit in
                FirmwareBuilder.Job(variant(base, entry: entry, label: name + "-" + label, segmented: segmented,
                                            prologueCheck: label == Self.prologueCheckLabel), route: route, nosplit: nosplit)
            }
        }, for: board)
        for (entry, name) in loads {
            for (label, route, segmented, nosplit) in routes {
                let (count, image) = try measure(base, entry: entry, label: name + "-" + label, segmented: segmented,
                                                 prologueCheck: label == Self.prologueCheckLabel, route: route,
                                                 nosplit: nosplit, on: board, exact: &result.exact)
                if name == "filter" && label == "segmented" { result.nosplitFunctions = image.nosplitFunctions.count }
                switch name {
                case "sort": result.sort[label] = count
                case "fib": result.fib[label] = count
                default: result.filter[label] = count
                }
            }
        }
        // Away: the same segmented image and loop, on a first segment with room for it.
        var roomy = base
        roomy.tasks = base.tasks.map { task in
            var task = task
            task.segmented = SegmentedStack(initialBytes: 2048, maximumBytes: 4736, segmentBytes: 2048)
            task.stackBytes = 2048
            return task
        }
        var splitting = base, splittingRoomy = roomy
        splitting.segmentAllocator = .custom("SplittingPool")
        splittingRoomy.segmentAllocator = .custom("SplittingPool")
        result.boundaryInstructions = try measure(base, entry: "boundaryTask", label: "boundary", segmented: true,
                                                  route: .splitStack, on: board, exact: &result.exact).instructions
        result.awayInstructions = try measure(roomy, entry: "awayTask", label: "away", segmented: true,
                                              route: .splitStack, on: board, exact: &result.exact).instructions
        result.splittingBoundaryInstructions = try measure(splitting, entry: "boundaryTask", label: "boundary-splitting", segmented: true,
                                                           route: .splitStack, on: board, exact: &result.exact).instructions
        result.splittingAwayInstructions = try measure(splittingRoomy, entry: "awayTask", label: "away-splitting", segmented: true,
                                                       route: .splitStack, on: board, exact: &result.exact).instructions
        if base.usesSegmentGuard(on: board) {
            var unguarded = splitting, unguardedRoomy = splittingRoomy
            unguarded.segmentGuard = false
            unguardedRoomy.segmentGuard = false
            result.unguardedSplittingBoundaryInstructions = try measure(unguarded, entry: "boundaryTask", label: "boundary-splitting-unguarded",
                                                                        segmented: true, route: .splitStack, on: board, exact: &result.exact).instructions
            result.unguardedSplittingAwayInstructions = try measure(unguardedRoomy, entry: "awayTask", label: "away-splitting-unguarded",
                                                                    segmented: true, route: .splitStack, on: board, exact: &result.exact).instructions
        }
        // The reference application names the boards with RAM for it (not the micro:bit's 16 KiB).
        if try Manifest.boards(directory: KeelRoot.examples.appendingPathComponent("segmented-ram")).contains(board.name) {
            result.ram = try ram(on: board)
        }
        return result
    }

    /// The row of T6: the fixed stack protected by the prologue check (its limit the slack above
    /// the bottom), priced against the same program unprotected (its own fixed row).
    public static let prologueCheckLabel = "T6 fixed"

    /// The bench application running `entry` on a segmented or a fixed stack, named by `label`;
    /// `prologueCheck`: the fixed stack asks for T6.
    func variant(_ base: Application, entry: String, label: String, segmented: Bool, prologueCheck: Bool = false) -> Application {
        var application = base
        application.name = "bench-segmented-" + label.lowercased().filter { $0.isLetter || $0.isNumber }
        application.tasks[0].entry = entry
        if !segmented {
            application.tasks = application.tasks.map { $0.withFixedStack(Self.fixedBytes) }
            application.segmentPoolBytes = 0
        }
        if prologueCheck { application.tasks = application.tasks.map { $0.with(protections: [.paint, .prologueCheck], redZoneBytes: 0) } }
        return application
    }

    func measure(_ base: Application, entry: String, label: String, segmented: Bool, prologueCheck: Bool = false, route: CodeRoute,
                 nosplit: Bool = true, on board: Board, exact: inout Bool) throws(KeelError) -> (instructions: UInt64, image: FirmwareImage) {
        let application = variant(base, entry: entry, label: label, segmented: segmented, prologueCheck: prologueCheck)
        let image = try bench.builder.build(application, for: board, route: route, nosplit: nosplit)
        let first = try bench.count(image)
        let second = try bench.count(image)
        if first != second { exact = false }
        return (first, image)
    }

    /// The reference application's peak RAM, segmented against fixed.
    func ram(on board: Board) throws(KeelError) -> SegmentedRAM {
        let base = try ContextSwitchBench.example("segmented-ram", board: board)
        let segmentedRun = try bench.runner.run(try bench.builder.build(base, for: board), options: RunOptions(timeoutSeconds: 60))
        guard segmentedRun.exitCode == 0, segmentedRun.faults.isEmpty,
              let pool = segmentedRun.segments.first(where: { $0.kind == .pool }),
              let total = pool["bytes"], let lowest = pool["lowest_free"] else {
            throw .runFailed("segmented-ram (segmented) on \(board.name) did not finish cleanly")
        }
        var fixed = base
        fixed.name += "-fixed"
        fixed.tasks = base.tasks.map { $0.withFixedStack(Self.fixedBytes) }
        fixed.segmentPoolBytes = 0
        let sameCode: CodeRoute = board.architecture == .armv6m ? .thumb1 : .native
        let fixedRun = try bench.runner.run(try bench.builder.build(fixed, for: board, route: sameCode), options: RunOptions(timeoutSeconds: 60))
        guard fixedRun.exitCode == 0, fixedRun.stacks.count == base.tasks.count else {
            throw .runFailed("segmented-ram (fixed) on \(board.name) did not finish cleanly")
        }
        let powerOfTwo = board.mpu == .pmsav7
        let need = fixedRun.stacks.reduce(0) { sum, stack in
            let used = stack.used ?? Self.fixedBytes
            return sum + (powerOfTwo ? max(32, 1 << (Int.bitWidth - (used - 1).leadingZeroBitCount)) : (used + 7) / 8 * 8)
        }
        return SegmentedRAM(tasks: base.tasks.count, firstSegments: base.tasks.reduce(0) { $0 + $1.stackBytes },
                            poolPeak: total - lowest, fixedNeed: need, roundedToPowerOfTwo: powerOfTwo)
    }
}
