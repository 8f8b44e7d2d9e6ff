// Segmented stacks on all three boards, from one run of `Firmware/Examples/segmented` each:
// the deep recursion against the same code on a fixed stack, growers under a 20 kHz tick,
// the hot split, exhaustion by `max` and by the pool, and the tick landing in __morestack;
// then the same application with the other segment allocator (ReservedSegments).

import KeelKit
import XCTest

final class SegmentedStackTests: XCTestCase {
    /// The shared-pool and the reserved-segments images of every board, SplitStackAnalysisTests'
    /// automatic first segment (its two builds took 45 s alone), and the segment guard's images.
    static let firmware: [TestFirmware.Request] = allBoards.flatMap { board in
        [.init(app: "segmented", board: board)]
            + (board == "microbit" ? [] : [.init(app: "segmented", board: board, variant: "reserved", change: reserved)])
    } + [.init(app: "segmented", board: "mps2-an385", variant: "auto-first", change: SplitStackAnalysisTests.automaticFirst)]
        + ["mps2-an385", "mps2-an505"].map { .init(app: "segment-guard", board: $0) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func run(_ board: String) throws -> RunResult { try TestFirmware.shared.run("segmented", board: board) }

    /// The `key=value` fields of the first output line starting with `prefix`.
    func fields(_ result: RunResult, _ prefix: String) -> [String: String]? {
        guard let line = result.output.first(where: { $0.hasPrefix(prefix) }) else { return nil }
        var fields: [String: String] = [:]
        for pair in line.split(separator: " ") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return fields
    }

    func number(_ fields: [String: String]?, _ key: String) -> Int? { fields?[key].flatMap { Int($0) } }

    func testDeepRecursionGivesTheFixedStacksResultAndGivesEveryByteBack() throws {
        for board in allBoards {
            let result = try run(board)
            let log = "\(board):\n\(transcript(result))"
            let fixed = try XCTUnwrap(fields(result, "keel-test:deep where=fixed"), log)
            let segmented = try XCTUnwrap(fields(result, "keel-test:deep where=segmented"), log)
            for key in ["checksum", "a", "f"] { XCTAssertEqual(segmented[key], fixed[key], "\(key); \(log)") }
            // Far beyond the 640-byte first segment (which sits on the pool and grows down into
            // it in place, so it may stay one segment).
            XCTAssertGreaterThanOrEqual(number(segmented, "peak_bytes") ?? 0, 4 * 640, log)
            XCTAssertGreaterThan(number(segmented, "splits") ?? 0, 0, log)
            // The pool: full before but for what the first segment may have grown by (at most the
            // slack); after a wait everything is back except a spare the task may keep and what
            // its first segment still holds below it (the slack under its SP).
            let total = try XCTUnwrap(number(segmented, "pool_bytes"), log)
            XCTAssertGreaterThanOrEqual(number(segmented, "pool_free_before") ?? 0, total - 384, log)
            let grown = (number(segmented, "held_after") ?? 0) - 640
            XCTAssertLessThanOrEqual(grown, 384, log)
            XCTAssertEqual((number(segmented, "pool_free_after") ?? 0) + (number(segmented, "spare") ?? 0) + grown, total, log)
        }
    }

    func testGrowersUnderPreemptionKeepTheirChecksumsAndThePoolBalances() throws {
        for board in allBoards {
            let result = try run(board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            for seed in ["11", "22"] {
                let fixed = try XCTUnwrap(fields(result, "keel-test:grower seed=\(seed) where=fixed"), log)
                let segmented = try XCTUnwrap(fields(result, "keel-test:grower seed=\(seed) where=segmented"), log)
                XCTAssertEqual(segmented["checksum"], fixed["checksum"], "seed \(seed); \(log)")
                // 60000 iterations, each growing by a segment and shrinking back.
                XCTAssertGreaterThanOrEqual(number(segmented, "splits") ?? 0, 60_000, log)
                // Over a thousand ticks, each a switch among the ready growers (the Thumb-2
                // split code of the M3 and M33 finishes in ~1200-1500, the M0 in over 2000).
                XCTAssertGreaterThanOrEqual(number(segmented, "ticks") ?? 0, 1_000, log)
            }
            let pool = try XCTUnwrap(result.segments.first { $0.kind == .pool }, log)
            XCTAssertEqual(pool["free"], pool["bytes"], "every segment back once every task stopped; \(log)")
            XCTAssertEqual(pool["allocations"], pool["releases"], log)
            XCTAssertEqual(pool["spare_bytes"], 0, log)
            // The hog took the pool down to less than its next frame and the slack under it
            // (a growth in place needs that much; a new segment more).
            let hogAsked = try XCTUnwrap(result.segments.first { $0.kind == .refused && $0.task == "hog" }?["asked"], log)
            XCTAssertLessThan(pool["lowest_free"] ?? .max, hogAsked + (pool["slack"] ?? 0), "the hog emptied the pool; \(log)")
            // Each task's slack below the limit was never used up (read back from its paint).
            for task in result.segments where task.kind == .task {
                XCTAssertLessThan(task["slack_peak"] ?? .max, pool["slack"] ?? 0, "\(task.task ?? "?"); \(log)")
                XCTAssertEqual(task["current"], 1, "a stopped task holds only its first segment; \(log)")
            }
        }
    }

    func testTheTickLandsInsideMoreStackAndBreaksNothing() throws {
        for board in allBoards {
            let result = try run(board)
            let log = "\(board):\n\(transcript(result))"
            let pool = try XCTUnwrap(result.segments.first { $0.kind == .pool }, log)
            // SysTick found the task inside __morestack this many times (between its masked
            // windows); the checksums above came out right all the same.
            XCTAssertGreaterThan(pool["ticks_in_morestack"] ?? 0, 100, log)
            // The interrupt handler's split code ran on the handler stack every time it was asked.
            XCTAssertEqual(number(fields(result, "keel-test:interrupts"), "runs"), 60, log)
            let unexpected = result.faults.filter { $0.task != "runaway" && $0.task != "hog" }
            XCTAssertEqual(unexpected.map(RunReport.describe), [], log)
        }
    }

    /// No hot split: 100000 calls from a loop whose call crosses the first segment's boundary.
    /// The first crosses it and the segment grows down in place; after that (and the few
    /// deeper calls that grow it once more each) none calls `__morestack`, and the pool is
    /// asked as often. (What that costs against the same
    /// loop away from a boundary is `keel bench --only segmented`'s hot-split row.)
    func testHotSplitLoopGrowsOnceAndNeverSplitsAgain() throws {
        for board in allBoards {
            let result = try run(board)
            let log = "\(board):\n\(transcript(result))"
            let hot = try XCTUnwrap(fields(result, "keel-test:hotsplit"), log)
            XCTAssertEqual(hot["iterations"], "100000", log)
            XCTAssertEqual(hot["at_boundary"], "true", "the loop's first call must cross the boundary; \(log)")
            // Once for the loop's call, and once for each deeper call that went lower still: a
            // few, however many iterations (each is a growth, counted as a split).
            XCTAssertLessThanOrEqual(number(hot, "splits") ?? .max, 4, log)
            XCTAssertGreaterThanOrEqual(number(hot, "splits") ?? 0, 1, log)
            XCTAssertLessThanOrEqual(number(hot, "pool_allocations") ?? .max, 4, log)
        }
    }

    /// The same application with the other allocator, `ReservedSegments` (keel.json's
    /// `"segment_allocator": "reserved"`): every result equals the fixed stacks' as with the
    /// shared pool, and exhaustion is per task: the hog (its max lowered so that every
    /// reserve fits the region) stops at its own max, never at an empty pool, and nothing else
    /// is refused. On the two MPS2 boards: the micro:bit's 16 KiB cannot hold every reserve
    /// of this application at once, which its layout says (checked too) — that is the price
    /// of reserves.
    func testReservedSegmentsGiveTheSameResultsAndStopEachTaskAtItsOwnMax() throws {
        let microbit = try BoardCatalog.board(named: "microbit")
        var application = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent("segmented"), board: microbit)
        Self.reserved(&application)
        XCTAssertThrowsError(try LayoutPlanner.plan(application, on: microbit)) { error in
            XCTAssertTrue("\(error)".contains("microbit has 16384 bytes of RAM"), "\(error)")
        }
        for board in ["mps2-an385", "mps2-an505"] {
            let result = try TestFirmware.shared.run("segmented", board: board, variant: "reserved", change: Self.reserved)
            let log = "\(board):\n\(transcript(result))"
            let fixed = try XCTUnwrap(fields(result, "keel-test:deep where=fixed"), log)
            let deep = try XCTUnwrap(fields(result, "keel-test:deep where=segmented"), log)
            for key in ["checksum", "a", "f"] { XCTAssertEqual(deep[key], fixed[key], "\(key); \(log)") }
            // Far beyond its first segment, from its own reserve (a segment there, grown in place).
            XCTAssertGreaterThanOrEqual(number(deep, "peak_segments") ?? 0, 2, log)
            XCTAssertGreaterThanOrEqual(number(deep, "peak_bytes") ?? 0, 4 * 640, log)
            for seed in ["11", "22"] {
                let fixed = try XCTUnwrap(fields(result, "keel-test:grower seed=\(seed) where=fixed"), log)
                let grower = try XCTUnwrap(fields(result, "keel-test:grower seed=\(seed) where=segmented"), log)
                XCTAssertEqual(grower["checksum"], fixed["checksum"], "seed \(seed); \(log)")
                XCTAssertGreaterThanOrEqual(number(grower, "splits") ?? 0, 60_000, log)
            }
            let refused = result.segments.filter { $0.kind == .refused }
            XCTAssertEqual(Set(refused.map(\.reason)), ["task-max"], "only a task's own max refuses; \(log)")
            XCTAssertEqual(refused.first { $0.task == "hog" }?["held"], 1664, log)
            XCTAssertEqual(result.faults.filter { $0.task == "hog" }.map(\.action), ["kill"], log)
            XCTAssertEqual(result.faults.filter { $0.task == "runaway" }.map(\.action), ["restart", "kill"], log)
            let pool = try XCTUnwrap(result.segments.first { $0.kind == .pool }, log)
            XCTAssertEqual(pool["free"], pool["bytes"], "every segment back; \(log)")
            XCTAssertEqual(pool["allocations"], pool["releases"], log)
            let hot = try XCTUnwrap(fields(result, "keel-test:hotsplit"), log)
            XCTAssertLessThanOrEqual(number(hot, "pool_allocations") ?? .max, 1, log)
            XCTAssertEqual(result.exitCode, 0, log)
        }
    }

    /// `segmented` with `ReservedSegments`: the hog's max lowered to 1664 so that the five
    /// reserves (4096 + 3 x 1024 + 1024 bytes) fill an 8 KiB region.
    static func reserved(_ application: inout Application) {
        application.segmentAllocator = .reserved
        application.segmentPoolBytes = 8192
        application.tasks = application.tasks.map { task in
            guard task.name == "hog", var segmented = task.segmented else { return task }
            segmented.maximumBytes = 1664
            var changed = task
            changed.segmented = segmented
            return changed
        }
    }

    /// Code without the prologue (a recursion with a C name) runs off a segment: on the M3 the
    /// MPU guard that follows the segment in use stops it, on the M33 PSPLIM at the segment's
    /// bottom; first on a segment from the pool (right above `neighbour`'s stack), then, after
    /// the restart, on the first segment (right above `sitter`'s). Nothing below either
    /// segment is written: the words both keep near the top of their stacks are intact, and
    /// both finish.
    func testCodeWithoutThePrologueIsStoppedAtTheBottomOfTheSegmentInUse() throws {
        for (board, technique) in [("mps2-an385", "segment-guard"), ("mps2-an505", "limit-register")] {
            let image = try TestFirmware.shared.image("segment-guard", board: board)
            let result = try TestFirmware.shared.run("segment-guard", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            let faults = result.faults
            XCTAssertEqual(faults.map(\.task), ["diver", "diver"], log)
            XCTAssertEqual(faults.map(\.kind), ["stack-overflow", "stack-overflow"], log)
            XCTAssertEqual(faults.map(\.technique), [technique, technique], log)
            XCTAssertEqual(faults.map(\.action), ["restart", "kill"], log)
            XCTAssertEqual(faults.map(\.outside), [0, 0], log)
            // Where each was stopped: the bottom of the segment in use then.
            let pool = try XCTUnwrap(image.layout.segmentPool)
            let first = try XCTUnwrap(image.layout.taskStacks.first { $0.name == "diver" })
            let neighbour = try XCTUnwrap(image.layout.taskStacks.first { $0.name == "neighbour" })
            XCTAssertEqual(faults.first?.limit, pool.bottom, "the pool's lowest segment\n" + log)
            XCTAssertEqual(neighbour.top, pool.bottom, "neighbour's stack lies right below the pool\n" + log)
            XCTAssertEqual(faults.last?.limit, first.bottom, "diver's first segment\n" + log)
            if technique == "segment-guard" {
                // The guard's region is near the segment's bottom, and the access it refused in it.
                for fault in faults where fault.mmfar != 0 {
                    XCTAssertTrue((fault.limit + 32..<fault.limit + 64).contains(fault.mmfar), log)
                }
            }
            XCTAssertTrue(result.output.contains("keel-test:neighbour intact=64 of 64"), log)
            XCTAssertTrue(result.output.contains("keel-test:sitter intact=64 of 64"), log)
            XCTAssertEqual(result.stacks.filter { $0.task != "diver" }.map(\.state), ["exited", "exited"], log)
            XCTAssertFalse(result.output.contains { $0.contains("not stopped") }, log)
            // The stack report names the guard where the image has it.
            let diver = try XCTUnwrap(result.stacks.first { $0.task == "diver" }, log)
            XCTAssertEqual(diver.protection.contains("segment-guard"), technique == "segment-guard", "\(diver.protection)")
        }
    }

    func testExhaustionStopsOnlyTheRunawayAndReclaimsItsSegments() throws {
        for board in allBoards {
            let result = try run(board)
            let log = "\(board):\n\(transcript(result))"
            let runaway = result.faults.filter { $0.task == "runaway" }
            XCTAssertEqual(runaway.map(\.action), ["restart", "kill"], log)
            let hog = result.faults.filter { $0.task == "hog" }
            XCTAssertEqual(hog.map(\.action), ["kill"], log)
            for fault in runaway + hog {
                XCTAssertEqual(fault.kind, "stack-exhausted", log)
                XCTAssertEqual(fault.technique, "split-stack", log)
            }
            let refused = result.segments.filter { $0.kind == .refused }
            // The runaway reaches its max (1664 bytes: its first segment and one more) ...
            let byMax = refused.filter { $0.task == "runaway" }
            XCTAssertEqual(byMax.map(\.reason), ["task-max", "task-max"], log)
            XCTAssertEqual(byMax.first?["held"], 1664, log)
            XCTAssertGreaterThan(byMax.first?["asked"] ?? 0, 0, log)
            // ... the hog empties the pool (4 KiB) long before its max of 16 KiB.
            let byPool = try XCTUnwrap(refused.first { $0.task == "hog" }, log)
            XCTAssertEqual(byPool.reason, "pool-empty", log)
            // Less was left than its next frame and the slack under it, and it held all the
            // rest (growing in place, a task holds what its frames take, not whole segments).
            let slack = try XCTUnwrap(result.segments.first { $0.kind == .pool }?["slack"], log)
            XCTAssertLessThan(byPool["pool_free"] ?? .max, (byPool["asked"] ?? 0) + slack, log)
            XCTAssertEqual((byPool["held"] ?? 0) + (byPool["pool_free"] ?? 0), 640 + 4096, log)
            // The pool's refusal count includes the refusals at a task's max, not only its own.
            let pool = try XCTUnwrap(result.segments.first { $0.kind == .pool }, log)
            XCTAssertGreaterThanOrEqual(pool["refusals"] ?? 0, refused.count, log)
            // The growers, which ran beside the runaway, finished with the right checksums (above)
            // and the task table shows who was stopped.
            let states = Dictionary(uniqueKeysWithValues: result.stacks.map { ($0.task, $0.state) })
            XCTAssertEqual(states["runaway"], "killed", log)
            XCTAssertEqual(states["hog"], "killed", log)
            for name in ["reference", "deep", "grower-a", "grower-b"] { XCTAssertEqual(states[name], "exited", log) }
        }
    }
}
