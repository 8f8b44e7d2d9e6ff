// T1, T2 and T3 against every overflow shape, on both MPU boards, with a byte-exact check
// that nothing outside the faulting stack changed (the firmware compares a copy of the whole
// stack area and prints the count); restart ten times; reset with a record, twice.

import KeelKit
import XCTest

final class MPUOverflowTests: XCTestCase {
    enum Technique: String, CaseIterable { case t1 = "limit-register", t2 = "mpu-region", t3 = "mpu-guard" }

    /// Every scenario task, in the order the checker runs them.
    static let scenarios = ["relapse", "deep", "wide", "memset", "preempted", "switching"]

    /// Every scenario task gets `technique` (the fault matrix's variant); one build per
    /// technique and board, shared by all tests and by FaultMatrixTests.
    static func image(_ technique: Technique, on board: String) throws -> FirmwareImage {
        try TestFirmware.shared.image("mpu-overflow", board: board, variant: technique.rawValue,
                                      change: FaultMatrix.variant(Protection(rawValue: technique.rawValue)!, board: try BoardCatalog.board(named: board)))
    }

    func result(_ technique: Technique, on board: String) throws -> RunResult {
        try TestFirmware.shared.run("mpu-overflow", board: board, variant: technique.rawValue,
                                    change: FaultMatrix.variant(Protection(rawValue: technique.rawValue)!, board: try BoardCatalog.board(named: board)))
    }

    func scenarioLine(_ result: RunResult, _ name: String) -> String? {
        result.output.first { $0.hasPrefix("keel-test:scenario=\(name) ") }
    }

    func assertEveryScenarioCaught(_ technique: Technique, on board: String,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try result(technique, on: board)
        let log = "\(board) \(technique.rawValue):\n\(transcript(result))"
        XCTAssertEqual(result.exitCode, 0, log, file: file, line: line)
        for scenario in Self.scenarios {
            // T1 watches the stack pointer only: a memset through a pointer below the stack is
            // not an SP move, so T1 cannot see it (asserted in its own test below).
            if technique == .t1 && scenario == "memset" { continue }
            XCTAssertEqual(scenarioLine(result, scenario), "keel-test:scenario=\(scenario) caught=yes outside-changed=0 stopped-unchanged=-",
                           "\(scenario); \(log)", file: file, line: line)
            let faults = result.faults.filter { $0.task == scenario }
            XCTAssertFalse(faults.isEmpty, "\(scenario) reported no fault; \(log)", file: file, line: line)
            for fault in faults {
                // A memset through a pointer into another T2 stack is a stray write, and T2 says so.
                let kind = scenario == "memset" && technique == .t2 ? "foreign-stack-write" : "stack-overflow"
                XCTAssertEqual(fault.kind, kind, "\(scenario); \(log)", file: file, line: line)
                XCTAssertEqual(fault.technique, technique.rawValue, "\(scenario); \(log)", file: file, line: line)
            }
        }
        // The tick arrived with the stack almost full: the hardware's own push overflowed.
        XCTAssertEqual(result.faults.first { $0.task == "preempted" }?.stackingFailed, true, log, file: file, line: line)
        // Other tasks went on: the checker ran every scenario and finished after both resets.
        XCTAssertTrue(result.output.contains("checker: after the task's reset; done"), log, file: file, line: line)
        XCTAssertFalse(result.output.contains { $0.contains("(not caught)") && !$0.hasPrefix("memset") }, log, file: file, line: line)
    }

    func testRegionCatchesEveryOverflowOnTheM3() throws { try assertEveryScenarioCaught(.t2, on: "mps2-an385") }
    func testRegionCatchesEveryOverflowOnTheM33() throws { try assertEveryScenarioCaught(.t2, on: "mps2-an505") }
    func testGuardCatchesEveryOverflowOnTheM3() throws { try assertEveryScenarioCaught(.t3, on: "mps2-an385") }
    func testGuardCatchesEveryOverflowOnTheM33() throws { try assertEveryScenarioCaught(.t3, on: "mps2-an505") }
    func testLimitRegisterCatchesEverySPOverflowOnTheM33() throws { try assertEveryScenarioCaught(.t1, on: "mps2-an505") }

    /// What T1 cannot do: a write below the stack that does not move SP goes through.
    func testLimitRegisterDoesNotSeeAMemsetBelowTheStack() throws {
        let result = try result(.t1, on: "mps2-an505")
        let line = try XCTUnwrap(scenarioLine(result, "memset"), transcript(result))
        XCTAssertTrue(line.hasPrefix("keel-test:scenario=memset caught=no outside-changed="), line)
        XCTAssertNotEqual(line, "keel-test:scenario=memset caught=no outside-changed=0", "the write did land below")
    }

    /// A restart policy of 10: the same task overflows eleven times; ten restarts, then killed.
    func testRestartedTaskIsCaughtEveryTime() throws {
        for (technique, board) in [(Technique.t2, "mps2-an385"), (.t3, "mps2-an505")] {
            let result = try result(technique, on: board)
            let faults = result.faults.filter { $0.task == "relapse" }
            XCTAssertEqual(faults.map(\.action), Array(repeating: "restart", count: 10) + ["kill"], transcript(result))
            XCTAssertEqual(result.output.filter { $0 == "relapse: starting (again)" }.count, 11, transcript(result))
        }
    }

    /// A handler's overflow is the handler's (caught on MSP), and resets with a record;
    /// a task with policy `reset` does the same; each record is printed by the next boot.
    func testResetsKeepARecordForTheNextBoot() throws {
        for (board, handlerTechnique) in [("mps2-an385", "mpu-guard"), ("mps2-an505", "limit-register")] {
            let result = try result(.t3, on: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.boots, 3, log)
            let handler = try XCTUnwrap(result.faults.first { $0.task == "handler" }, log)
            XCTAssertEqual(handler.kind, "stack-overflow", log)
            XCTAssertEqual(handler.technique, handlerTechnique, log)
            XCTAssertEqual(handler.action, "reset", log)
            XCTAssertEqual(result.previousBoots.map(\.task), ["handler", "resetter"], log)
            XCTAssertEqual(result.previousBoots.map(\.resets), [1, 2], log)
            XCTAssertEqual(result.previousBoots.first?.technique, handlerTechnique, log)
            XCTAssertEqual(result.previousBoots.last?.kind, "stack-overflow", log)
        }
    }
}
