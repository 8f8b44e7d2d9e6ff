// Runs the `keel` executable as a person would: bad input gives exit code 2 and one clear line.

import Foundation
import KeelKit
import XCTest

final class CommandLineTests: XCTestCase {
    var keel: URL { builtKeel }

    /// Runs `keel` and collects what it printed (a build and run take a while; a hang still ends).
    func keel(_ arguments: String...) throws -> Outcome { try keelPromptly(arguments, seconds: 600) }

    func application(_ manifest: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try manifest.write(to: directory.appendingPathComponent("keel.json"), atomically: true, encoding: .utf8)
        try "func work() {}\n".write(to: directory.appendingPathComponent("App.swift"), atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.path
    }

    func assertBadInput(_ outcome: Outcome, says message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(outcome.status, 2, outcome.errors, file: file, line: line)
        XCTAssertTrue(outcome.errors.contains(message), "stderr: \(outcome.errors)", file: file, line: line)
        XCTAssertEqual(outcome.errors.split(separator: "\n").count, 1, "one line: \(outcome.errors)", file: file, line: line)
        XCTAssertFalse(outcome.errors.contains("Fatal error"), file: file, line: line)
    }

    /// Installed with Scripts/install (this test's keel, not a release build) and run from
    /// another folder with no KEEL_ROOT: `keel new` makes an application that builds, passes its
    /// check and runs as it is, with the kernel found beside the executable.
    func testInstalledToolRunsANewApplicationFromAnotherFolder() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("keel-install-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: base) }
        let prefix = base.appendingPathComponent("prefix"), work = base.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let install = Process()
        install.executableURL = KeelRoot.url.appendingPathComponent("Scripts/install")
        install.arguments = [prefix.path, "--binary", keel.path]
        install.standardOutput = Pipe()
        try install.run()
        install.waitUntilExit()
        XCTAssertEqual(install.terminationStatus, 0)
        var environment = ProcessInfo.processInfo.environment
        environment["KEEL_ROOT"] = nil
        environment["XDG_CACHE_HOME"] = base.appendingPathComponent("cache").path
        func installed(_ arguments: String...) throws -> Outcome {
            try runProcess(arguments, executable: prefix.appendingPathComponent("bin/keel"), in: work, environment: environment)
        }
        XCTAssertEqual(try installed("--version").output, "keel \(KeelVersion.string)\n")
        let created = try installed("new", "sensor-app", "--board", "mps2-an385")
        XCTAssertEqual(created.status, 0, created.errors)
        let run = try installed("run", "--board", "mps2-an385", "--app", "sensor-app")
        XCTAssertEqual(run.status, 0, run.output + run.errors)
        for round in 1...3 {
            XCTAssertTrue(run.output.contains("hello from sensor-app: round \(round) at "), run.output)
        }
        // Built from the installed kernel, cached outside the source tree and the prefix.
        let kernels = try FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent("cache/keel/kernels").path)
        XCTAssertTrue(kernels.contains { $0.hasPrefix("mps2-an385-") }, "\(kernels)")
        let again = try installed("new", "sensor-app")
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.errors.contains("exists and is not an empty folder"), again.errors)
    }

    func testUnknownBoardIsExitCode2() throws {
        let demo = KeelRoot.examples.appendingPathComponent("demo").path
        assertBadInput(try keel("build", "--board", "stm32-nowhere", "--app", demo),
                       says: "unknown board 'stm32-nowhere'; known boards: mps2-an385, mps2-an386, mps2-an500, mps2-an505, mps3-an547, microbit, netduinoplus2")
    }

    func testBrokenManifestIsExitCode2() throws {
        let app = try application(#"{"name": "broken", "tasks": [ {"name": "a""#)
        assertBadInput(try keel("build", "--app", app), says: "cannot be read as JSON")
    }

    func testMissingFieldIsExitCode2() throws {
        let app = try application(#"{"name": "x", "tasks": [{"name": "a", "priority": 1, "stack": 1024}]}"#)
        assertBadInput(try keel("build", "--app", app), says: "task 'a': 'entry' is missing")
    }

    func testUnknownKeyIsExitCode2() throws {
        let app = try application(#"{"name": "x", "tasks": [{"name": "a", "entry": "work", "priority": 1, "stack": 1024, "stak": 4}]}"#)
        assertBadInput(try keel("build", "--app", app), says: "unknown key 'stak'")
    }

    func testStackLargerThanRAMIsExitCode2() throws {
        let app = try application(#"{"name": "x", "tasks": [{"name": "big", "entry": "work", "priority": 1, "stack": 8388608}]}"#)
        assertBadInput(try keel("build", "--board", "mps2-an385", "--app", app),
                       says: "task 'big': a stack of 8388608 bytes is larger than mps2-an385's RAM (4194304 bytes)")
    }

    func testStacksThatDoNotFitTogetherAreExitCode2() throws {
        let app = try application(#"{"name": "x", "tasks": [{"name": "a", "entry": "work", "priority": 1, "stack": 8192}, {"name": "b", "entry": "work", "priority": 1, "stack": 8192}]}"#)
        assertBadInput(try keel("build", "--board", "microbit", "--app", app), says: "impossible layout: stacks need")
    }

    func testLimitRegisterOnACoreWithoutItIsExitCode2() throws {
        let app = try application(#"{"name": "x", "tasks": [{"name": "a", "entry": "work", "priority": 1, "stack": 1024, "protection": ["limit-register"]}]}"#)
        assertBadInput(try keel("build", "--board", "mps2-an385", "--app", app), says: "limit-register needs PSPLIM")
    }

    func testBoardsAsJSON() throws {
        let outcome = try keel("boards", "--json")
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        let boards = try JSONDecoder().decode([Board].self, from: Data(outcome.output.utf8))
        XCTAssertEqual(boards, BoardCatalog.all)
    }

    func testRunPrintsDecodedFaultAndExitCode() throws {
        let demo = KeelRoot.examples.appendingPathComponent("demo").path
        let outcome = try keel("run", "--board", "mps2-an505", "--app", demo, "--json")
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        let events = outcome.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let fault = try XCTUnwrap(events.first { $0["event"] as? String == "fault" })
        XCTAssertEqual(fault["task"] as? String, "runaway")
        XCTAssertEqual(fault["technique"] as? String, "limit-register")
        XCTAssertTrue((fault["message"] as? String ?? "").contains("stack overflow caught by T1"))
        XCTAssertEqual(events.last?["event"] as? String, "exit")
        XCTAssertEqual(events.last?["code"] as? Int, 0)
    }

    /// `keel run` exits 4 when the firmware ended with 0 but a fault happened that the
    /// manifest does not declare, naming it; with every fault declared it exits 0.
    func testRunFailsOnAnUndeclaredFault() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-expect-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: KeelRoot.examples.appendingPathComponent("overflow"), to: directory)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(".build"))
        let declared = try keel("run", "--board", "mps2-an505", "--app", directory.path)
        XCTAssertEqual(declared.status, 0, declared.errors)
        let manifest = directory.appendingPathComponent("keel.json")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        try text.replacingOccurrences(of: #", "expect": "overflow""#, with: "").write(to: manifest, atomically: true, encoding: .utf8)
        let undeclared = try keel("run", "--board", "mps2-an505", "--app", directory.path)
        XCTAssertEqual(undeclared.status, 4, undeclared.errors)
        XCTAssertTrue(undeclared.errors.contains("unexpected stack overflow of task 'deep'"), undeclared.errors)
        XCTAssertTrue(undeclared.errors.contains(#"declare "expect": "overflow" on task 'deep'"#), undeclared.errors)
    }

    /// The application is its own module: it sees `import Keel`'s public API and nothing else.
    func testApplicationCannotReachKernelInternals() throws {
        let app = try application(#"{"name": "x", "tasks": [{"name": "a", "entry": "work", "priority": 1, "stack": 1024}]}"#)
        try "import Keel\nfunc work() { Keel.sleep(ticks: 1); _ = tickCount }\n"
            .write(toFile: app + "/App.swift", atomically: true, encoding: .utf8)
        let outcome = try keel("build", "--board", "mps2-an385", "--app", app, "--no-check")
        XCTAssertEqual(outcome.status, 1, outcome.errors)
        XCTAssertTrue(outcome.errors.contains("cannot find 'tickCount' in scope"), outcome.errors)
    }
}
