// The instruction counts `keel bench` reports are exact: two runs of one image agree (each
// IPC and Thread-Metric row is measured twice and compared; the context switch's rows by the
// same function). Targets belong to the bench's output, never to these tests: they check
// exactness and shape.

import KeelKit
import XCTest

final class BenchTests: XCTestCase {
    /// The services bench on the M0 (its own port): every window repeats, every interrupt
    /// wake-up counts the same, and each figure has the shape its path implies.
    func testServicesBenchIsExactAndPlausible() throws {
        let image = try TestFirmware.shared.image("bench-ipc", board: "microbit")
        guard let runner = TestFirmware.shared.runner else { throw XCTSkip("qemu-system-arm is not installed") }
        let bench = ContextSwitchBench(builder: try XCTUnwrap(TestFirmware.shared.builder), runner: runner,
                                       plugin: try ContextSwitchBench.makePlugin())
        let windows = try bench.windows(image, alsoStartingAt: [IPCBench.interruptEntry])
        XCTAssertEqual(windows.each.count, windows.windows)
        XCTAssertEqual(windows.each.reduce(0, +), windows.counted, "the windows' counts add up to the total counted")
        let rows = try IPCBench(bench: bench).measure(image)
        XCTAssertEqual(rows.map(\.shape), IPCShape.all.map(\.name))
        for row in rows { XCTAssertTrue(row.repeatable, "\(row.shape) is not exact") }
        let figure = Dictionary(uniqueKeysWithValues: rows.map { ($0.shape, $0.perUnit) })
        let yield = try XCTUnwrap(figure["plain yield switch"])
        XCTAssertGreaterThan(yield, 20, "a switch saves and restores eight registers and picks a task")
        // A hand-off is a switch plus the service's work on both sides.
        for shape in ["queue send + receive", "binary semaphore hand-off", "notification hand-off",
                      "interrupt -> woken task (semaphore)", "interrupt -> woken task (notification)"] {
            XCTAssertGreaterThan(try XCTUnwrap(figure[shape]), yield + 10, shape)
            XCTAssertLessThan(try XCTUnwrap(figure[shape]), 2000, shape)
        }
        // A queue copies an element where a semaphore only counts.
        XCTAssertGreaterThan(try XCTUnwrap(figure["queue send + receive"]), try XCTUnwrap(figure["binary semaphore hand-off"]))
        // An uncontended lock and unlock never switch, but are two calls with their checks.
        let mutex = try XCTUnwrap(figure["mutex lock + unlock"])
        XCTAssertGreaterThan(mutex, 10)
        XCTAssertLessThan(mutex, try XCTUnwrap(figure["queue send + receive"]))
    }

    /// Thread-Metric on the M0 (the image ExampleCheckTests builds): every test's window
    /// repeats, the suite's own counter check passes (the run fails otherwise), and each figure
    /// has the shape its test implies.
    func testThreadMetricIsExactAndItsCountersAgree() throws {
        let image = try TestFirmware.shared.image("bench-thread-metric", board: "microbit")
        guard let runner = TestFirmware.shared.runner else { throw XCTSkip("qemu-system-arm is not installed") }
        let bench = ContextSwitchBench(builder: try XCTUnwrap(TestFirmware.shared.builder), runner: runner,
                                       plugin: try ContextSwitchBench.makePlugin())
        let rows = try ThreadMetricBench(bench: bench).measure(image, protection: "none")
        XCTAssertEqual(rows.map(\.test), ThreadMetricTest.all.map(\.name))
        for row in rows { XCTAssertTrue(row.repeatable, "\(row.test) is not exact") }
        let figure = Dictionary(uniqueKeysWithValues: rows.map { ($0.test, $0.perUnit) })
        // A relinquish is a switch; a preemptive unit is 8/5 of one and a resume or suspend.
        let relinquish = try XCTUnwrap(figure["cooperative scheduling"])
        XCTAssertGreaterThan(relinquish, 20)
        XCTAssertGreaterThan(try XCTUnwrap(figure["preemptive scheduling"]), relinquish * 8 / 5)
        // An interrupt that resumes a task (two switches) costs more than one that gives a semaphore.
        XCTAssertGreaterThan(try XCTUnwrap(figure["interrupt preemption"]), try XCTUnwrap(figure["interrupt processing"]))
        for row in rows { XCTAssertLessThan(row.perUnit, 2000, row.test) }
    }

    /// `keel bench --only idle --board mps2-an385 --json` prints only that part, for that board:
    /// an idle second ticking against tickless, both runs waking on time, tickless taking
    /// fewer instructions and interrupts. (The switch rows' command took 30 seconds of the
    /// suite; their counting is the services' and Thread-Metric's, through the same counter.)
    func testOnlyIdlePrintsTheBoardsRow() throws {
        guard TestFirmware.shared.runner != nil else { throw XCTSkip("qemu-system-arm is not installed") }
        let outcome = try runProcess(["bench", "--only", "idle", "--board", "mps2-an385", "--json"])
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        struct Report: Decodable { var idle: [IdleCost]; var switches: [SwitchCost]? }
        let report = try JSONDecoder().decode(Report.self, from: Data(outcome.output.utf8))
        XCTAssertNil(report.switches, "a part left out is absent")
        XCTAssertEqual(report.idle.map(\.board), ["mps2-an385"])
        let idle = try XCTUnwrap(report.idle.first)
        XCTAssertEqual(idle.tickingLate, 0)
        XCTAssertEqual(idle.ticklessLate, 0)
        XCTAssertGreaterThanOrEqual(idle.tickingInterrupts, 1000, "a tick interrupt every millisecond: \(idle)")
        XCTAssertLessThan(idle.ticklessInterrupts, idle.tickingInterrupts)
        XCTAssertLessThan(idle.ticklessInstructions, idle.tickingInstructions)
        XCTAssertGreaterThan(idle.ticklessSleeps, 0)
    }

    /// `keel bench --app`: every switch of the application's run is counted. (One run: that two
    /// runs count the same is the services' and Thread-Metric's, with the same plugin.)
    func testApplicationBenchCountsEverySwitch() throws {
        guard let runner = TestFirmware.shared.runner else { throw XCTSkip("qemu-system-arm is not installed") }
        let bench = ContextSwitchBench(builder: try XCTUnwrap(TestFirmware.shared.builder), runner: runner,
                                       plugin: try ContextSwitchBench.makePlugin())
        let board = try BoardCatalog.board(named: "microbit")
        // A short run (three tasks taking turns by priority and sleeping): a long one counted
        // the same way cost the suite 20 seconds more.
        var application = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent("interleave"), board: board)
        application.buildFolder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-app-bench")
        let first = try ApplicationBench(bench: bench).measure(application, on: board, timeoutSeconds: 60)
        XCTAssertEqual(first.exitCode, 0)
        XCTAssertGreaterThan(first.switches, 10, "three tasks that sleep and wake in turn switch at every wake-up")
        XCTAssertLessThanOrEqual(Double(first.fewest), first.perSwitch)
        XCTAssertGreaterThanOrEqual(Double(first.most), first.perSwitch)
        XCTAssertGreaterThan(first.fewest, 20)
        XCTAssertTrue((0.0...1.0).contains(first.switchShare))
    }
}
