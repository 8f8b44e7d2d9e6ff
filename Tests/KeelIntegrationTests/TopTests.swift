// The live task table of a firmware that never ends (Examples/forever): read through QEMU's gdb
// stub when `keel run --timeout` stops it, on every board, and by `keel top` against a QEMU
// started with a listening stub (the MPU boards: another task's stack is behind the MPU). Each
// task logs its own high-water mark every round; the table must show exactly the last one.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import KeelKit
import XCTest

final class TopTests: XCTestCase {
    let tasks: Set<String> = ["sensor", "filter", "reporter"]

    /// The three boards' images, built two at a time (the runs are each test's own).
    static let firmware: [TestFirmware.Request] = allBoards.map { .init(app: "forever", board: $0, running: false) }
        + [.init(app: "partial-deadlock", board: "mps2-an385", running: false)]
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testTheTableAtTheTimeoutShowsTheHighWaterEachTaskLoggedOnEveryBoard() throws {
        for board in allBoards {
            let image = try TestFirmware.shared.image("forever", board: board)
            let runner = try XCTUnwrap(TestFirmware.shared.runner)
            let result = try runner.run(image, options: RunOptions(timeoutSeconds: 2, readsTasksAtTimeout: true))
            let log = "\(board):\n\(transcript(result).suffix(1500))"
            XCTAssertTrue(result.timedOut, log)
            let table = try XCTUnwrap(result.tasksAtTimeout, "\(board): \(result.tasksAtTimeoutProblem ?? "no problem given")")
            let logged = lastLogged(result.output)
            XCTAssertEqual(Set(logged.keys), tasks, log)
            for (task, bytes) in logged {
                XCTAssertEqual(table[task]?.highWater, bytes, "\(board) \(task): the table's mark is the task's own; \(RunReport.taskTable(table))")
            }
            XCTAssertEqual(table.tasks.map(\.name), ["sensor", "filter", "reporter", "idle"], "most urgent first, idle last")
            XCTAssertEqual(table.tasks.map(\.size), [1024, 1536, 768, 512])
            XCTAssertEqual(table.tasks.map(\.priority), [3, 2, 1, 0])
            for task in table.tasks {
                XCTAssertTrue(["running", "ready", "sleeping"].contains(task.state), "\(board) \(task.name): \(task.state)")
                XCTAssertEqual(task.faults, 0)
                XCTAssertTrue(task.protection.contains("paint"))
                // Switched out: at least its exception frame (idle, on the CPU at a WFI, may hold nothing).
                if task.state != "running" { XCTAssertGreaterThan(task.usedNow ?? 0, 0, "\(board) \(task.name)") }
                XCTAssertLessThanOrEqual(task.usedNow ?? .max, task.highWater ?? 0, "\(board) \(task.name)")
            }
            let handler = try XCTUnwrap(table.handler)
            XCTAssertGreaterThan(handler.highWater, 0)
            XCTAssertLessThan(handler.highWater, handler.size)
        }
    }

    /// `keel top` against `keel run --gdb-listen`'s QEMU, once and with --watch; the firmware
    /// runs on after each read and after keel top is gone.
    func testKeelTopReadsARunningQEMUOnTheMPUBoards() throws {
        for board in ["mps2-an385", "mps2-an505"] {
            let image = try TestFirmware.shared.image("forever", board: board)
            let runner = try XCTUnwrap(TestFirmware.shared.runner)
            let port = try freePort()
            let logging = DispatchSemaphore(value: 0)
            let lines = LineCounter()
            let finished = DispatchSemaphore(value: 0)
            let outcome = RunOutcome()
            Thread.detachNewThread {
                let result = try? runner.run(image, options: RunOptions(timeoutSeconds: 30, gdbListenPort: port, readsTasksAtTimeout: false)) { record in
                    if case .output(let line) = record, line.hasPrefix("keel-test:hwm "), lines.add() == 12 { logging.signal() }
                }
                outcome.set(result)
                finished.signal()
            }
            XCTAssertEqual(logging.wait(timeout: .now() + 60), .success, "\(board): the firmware logs")

            let once = try keel(["top", "--gdb", ":\(port)", "--app", KeelRoot.examples.appendingPathComponent("forever").path,
                                 "--board", board])
            XCTAssertEqual(once.status, 0, "\(board): \(once.errors)")
            let rows = once.output.split(separator: "\n").map(String.init)
            XCTAssertTrue(rows.first?.hasPrefix("localhost:\(port): running ") ?? false, once.output)
            XCTAssertTrue(rows.contains { $0.hasPrefix("task ") && $0.contains("high-water") }, once.output)
            XCTAssertEqual(rows.filter { $0.hasPrefix("handler ") }.count, 1, once.output)

            let afterOnce = lines.count
            let watched = try keel(["top", "--gdb", "127.0.0.1:\(port)", "--elf", image.elf.path, "--json", "--watch", "0.2"],
                                   interruptAfter: 1.5)
            XCTAssertEqual(watched.status, 0, "\(board): Ctrl-C ends --watch cleanly: \(watched.errors)")
            let snapshots = try watched.output.split(separator: "\n").map { line in
                try JSONDecoder().decode(TaskTable.self, from: Data(line.utf8))
            }
            XCTAssertGreaterThanOrEqual(snapshots.count, 3, "\(board): a table every 0.2 s: \(watched.output)")
            XCTAssertGreaterThan(lines.count, afterOnce, "\(board): the firmware ran on between the reads")
            let afterWatch = lines.count

            // The firmware runs on after keel top is gone; then the run is ended (not left to its timeout).
            let deadline = Date().addingTimeInterval(20)
            while lines.count <= afterWatch && Date() < deadline { usleep(20_000) }
            XCTAssertGreaterThan(lines.count, afterWatch, "\(board): and after keel top was gone")
            endQEMU(port: port)
            XCTAssertEqual(finished.wait(timeout: .now() + 60), .success)
            let result = try XCTUnwrap(outcome.result)
            let logged = lastLogged(result.output)
            XCTAssertEqual(Set(logged.keys), tasks)
            for snapshot in snapshots {
                XCTAssertEqual(snapshot.tasks.count, 4, "walked to idle without a manifest")
                for (task, bytes) in logged { XCTAssertEqual(snapshot[task]?.highWater, bytes, "\(board) \(task)") }
            }
        }
    }

    /// A partial deadlock through `keel top`: each waiting task's object, the mutex's holder,
    /// since which tick; in the text table and in JSON.
    func testKeelTopShowsWhatEachWaitingTaskWaitsFor() throws {
        let board = "mps2-an385"
        let image = try TestFirmware.shared.image("partial-deadlock", board: board)
        let runner = try XCTUnwrap(TestFirmware.shared.runner)
        let port = try freePort()
        let running = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? runner.run(image, options: RunOptions(timeoutSeconds: 30, gdbListenPort: port, readsTasksAtTimeout: false)) { record in
                if case .output(let line) = record, line == "ticker: still running" { running.signal() }
            }
            finished.signal()
        }
        XCTAssertEqual(running.wait(timeout: .now() + 60), .success, "the firmware runs")
        let app = KeelRoot.examples.appendingPathComponent("partial-deadlock").path
        // --elf with --app: the image running, and the manifest's names for its objects (nothing to build).
        let text = try keel(["top", "--gdb", ":\(port)", "--elf", image.elf.path, "--app", app, "--board", board])
        XCTAssertEqual(text.status, 0, text.errors)
        let rows = text.output.split(separator: "\n").map(String.init)
        XCTAssertTrue(rows.contains { $0.hasPrefix("task ") && $0.hasSuffix("waiting for") }, text.output)
        let waiter = try XCTUnwrap(rows.first { $0.hasPrefix("waiter ") }, text.output)
        XCTAssertNotNil(waiter.range(of: #"waiting .* mutex 'bus' held by 'holder' since tick 2[01] \(\d+ ticks ago\)$"#,
                                     options: .regularExpression), waiter)
        let holder = try XCTUnwrap(rows.first { $0.hasPrefix("holder ") }, text.output)
        XCTAssertNotNil(holder.range(of: #"semaphore 'never' since tick 1[01] "#, options: .regularExpression), holder)
        let json = try keel(["top", "--gdb", ":\(port)", "--elf", image.elf.path, "--app", app, "--board", board, "--json"])
        XCTAssertEqual(json.status, 0, json.errors)
        let table = try JSONDecoder().decode(TaskTable.self, from: Data(json.output.utf8))
        XCTAssertEqual(table["waiter"]?.waitingFor, "mutex 'bus' held by 'holder'", json.output)
        XCTAssertEqual(table["holder"]?.waitingFor, "semaphore 'never'", json.output)
        XCTAssertNil(table["ticker"]?.waitingFor, json.output)
        endQEMU(port: port)
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success)
    }

    func testTopSaysWhyItCannotReadATarget() throws {
        let elf = try TestFirmware.shared.image("forever", board: "microbit").elf.path
        let port = try freePort()
        let refused = try keel(["top", "--gdb", ":\(port)", "--elf", elf])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.errors, "keel: error: cannot connect to the GDB stub at localhost:\(port): Connection refused "
            + "(`keel run --gdb-listen \(port)` starts QEMU with one)\n")
        let missing = try keel(["top", "--gdb-socket", "/tmp/keel-no-such.sock", "--elf", elf])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.errors.hasPrefix("keel: error: cannot connect to the GDB stub at /tmp/keel-no-such.sock: No such file"), missing.errors)
        let badAddress = try keel(["top", "--gdb", "host:port", "--elf", elf])
        XCTAssertEqual(badAddress.status, 2)
        XCTAssertTrue(badAddress.errors.contains("--gdb wants HOST:PORT or :PORT"), badAddress.errors)
        let notAnImage = try keel(["top", "--gdb", ":\(port)", "--elf", "/etc/hostname"])
        XCTAssertEqual(notAnImage.status, 2, notAnImage.errors)
    }

    // MARK: Helpers

    /// The last "keel-test:hwm task=NAME bytes=N" of each task.
    func lastLogged(_ output: [String]) -> [String: Int] {
        var marks: [String: Int] = [:]
        for line in output where line.hasPrefix("keel-test:hwm ") {
            var fields: [String: String] = [:]
            for pair in line.split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            if let task = fields["task"], let bytes = fields["bytes"].flatMap({ Int($0) }) { marks[task] = bytes }
        }
        return marks
    }

    /// Runs the `keel` built beside the tests; `interruptAfter` sends Ctrl-C (SIGINT) then.
    func keel(_ arguments: [String], interruptAfter: Double? = nil) throws -> Outcome {
        try runProcess(arguments, interruptAfter: interruptAfter, seconds: 300)
    }

    /// A TCP port nothing listens on now.
    func freePort() throws -> Int { try freeTCPPort() }
}

/// Ends a QEMU that listens for gdb on `port` (`k`), once a test is done with it, instead of
/// waiting for its run's timeout: a few seconds of the suite each.
func endQEMU(port: Int) {
    guard let port = UInt16(exactly: port), let target = try? GDBRemote(connectingTo: .tcp(host: "localhost", port: port), timeout: 5) else { return }
    target.kill()
}

private final class LineCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() -> Int { lock.withLock { value += 1; return value } }
    var count: Int { lock.withLock { value } }
}

private final class RunOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: RunResult?
    func set(_ result: RunResult?) { lock.withLock { value = result } }
    var result: RunResult? { lock.withLock { value } }
}
