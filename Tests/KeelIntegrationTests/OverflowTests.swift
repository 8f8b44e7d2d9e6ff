// Overflows by deep recursion and by one large local buffer, caught by T4, T5 and (M33) T1.

import KeelKit
import XCTest

final class OverflowTests: XCTestCase {
    enum Technique: String { case t1 = "limit-register", t4 = "red-zone", t5 = "sp-check" }

    static let firmware: [TestFirmware.Request] = allBoards.flatMap { board in
        [Technique.t4, .t5].map { request($0, on: board) } + (board == "mps2-an505" ? [request(.t1, on: board)] : [])
    }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    static func request(_ technique: Technique, on board: String) -> TestFirmware.Request {
        .init(app: "overflow", board: board, variant: technique.rawValue) { application in
            let protection = Protection(rawValue: technique.rawValue)!
            application.tasks = application.tasks.map { task in
                guard task.name == "deep" || task.name == "wide" else { return task }
                return task.with(protections: [.paint, protection], redZoneBytes: 16)
            }
        }
    }

    func result(_ technique: Technique, on board: String) throws -> RunResult {
        let request = Self.request(technique, on: board)
        return try TestFirmware.shared.run("overflow", board: board, variant: technique.rawValue, change: request.change)
    }

    func assertCaught(_ technique: Technique, on board: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try result(technique, on: board)
        let log = "\(board) \(technique):\n\(transcript(result))"
        XCTAssertEqual(result.exitCode, 0, log, file: file, line: line)
        for task in ["deep", "wide"] {
            let fault = result.faults.first { $0.task == task }
            XCTAssertEqual(fault?.kind, "stack-overflow", "\(task) not caught; \(log)", file: file, line: line)
            XCTAssertEqual(fault?.technique, technique.rawValue, "\(task); \(log)", file: file, line: line)
            XCTAssertEqual(fault?.action, "kill", log, file: file, line: line)
            XCTAssertEqual(result.stacks.first { $0.task == task }?.state, "killed", log, file: file, line: line)
        }
        // Nothing else faulted on its own: a task whose stack an overflow wrote was stopped with
        // that cause (never blamed), and the other tasks kept going.
        XCTAssertEqual(Set(result.faults.filter { !$0.isVictim }.map(\.task)), ["deep", "wide"], log, file: file, line: line)
        for victim in result.faults where victim.isVictim {
            XCTAssertTrue(["deep", "wide"].contains(victim.cause ?? ""), log, file: file, line: line)
            XCTAssertEqual(result.stacks.first { $0.task == victim.task }?.harmedBy, victim.cause, log, file: file, line: line)
        }
        // Evidence kept: a killed task's row says how far it went (before the repaint), never 0 %.
        for task in ["deep", "wide"] {
            XCTAssertGreaterThan(result.stacks.first { $0.task == task }?.used ?? 0, 0, log, file: file, line: line)
        }
        XCTAssertTrue(result.output.contains("steady: still running after the overflows"), log, file: file, line: line)
        XCTAssertEqual(result.output.filter { $0.hasPrefix("steady: round") }.count, 4, log, file: file, line: line)
        XCTAssertFalse(result.output.contains { $0.contains("(not caught)") }, log, file: file, line: line)
    }

    func testRedZoneCatchesBothOverflowsOnEveryBoard() throws {
        for board in allBoards { try assertCaught(.t4, on: board) }
    }

    func testStackPointerCheckCatchesBothOverflowsOnEveryBoard() throws {
        for board in allBoards { try assertCaught(.t5, on: board) }
    }

    func testLimitRegisterCatchesBothOverflowsOnTheM33() throws {
        try assertCaught(.t1, on: "mps2-an505")
    }

    /// T1 stops the write itself: not one byte below the stack changes, even though the task
    /// yields at every level of its recursion, so that the kernel's context save happens at
    /// the very edge (the software save goes to the task control block, never the stack).
    func testLimitRegisterWritesNothingBelowTheStack() throws {
        let result = try result(.t1, on: "mps2-an505")
        XCTAssertTrue(result.output.contains("keel-test:below-changed=0"), transcript(result))
        let fault = try XCTUnwrap(result.faults.first { $0.task == "deep" })
        XCTAssertGreaterThanOrEqual(fault.sp, fault.limit, "PSP never went below PSPLIM")
        XCTAssertNotEqual(fault.cfsr & (1 << 20), 0, "UFSR.STKOF is set")
    }

    /// Software-only on the micro:bit: `deep` sits right above `sentinel`, so its overflow
    /// writes `sentinel`'s stack; `sentinel` is stopped with that cause before it runs again.
    func testNeighbourOfASoftwareOnlyOverflowIsStoppedWithTheTrueCause() throws {
        for technique in [Technique.t4, .t5] {
            let result = try result(technique, on: "microbit")
            let victim = try XCTUnwrap(result.faults.first { $0.task == "sentinel" }, transcript(result))
            XCTAssertEqual(victim.kind, "stack-overwritten", transcript(result))
            XCTAssertEqual(victim.cause, "deep", transcript(result))
            // T4 proves only the frame at SP: the victim's live stack was in reach, and the line says how sure that is.
            XCTAssertTrue(RunReport.describe(victim).contains("overwritten by the overflow of 'deep'"), RunReport.describe(victim))
            let culprit = try XCTUnwrap(result.faults.first { $0.task == "deep" })
            XCTAssertEqual(culprit.hit, "stack:sentinel", transcript(result))
        }
    }

    /// T4 alone: the large frame's report says how far below the stack SP was, and that its frame there was written.
    func testRedZoneReportsBytesWrittenBelow() throws {
        let result = try result(.t4, on: "mps2-an385")
        let wide = try XCTUnwrap(result.faults.first { $0.task == "wide" }, transcript(result))
        XCTAssertGreaterThan(wide.outside, 0, transcript(result))
        XCTAssertTrue(RunReport.describe(wide).contains("SP was \(wide.outside) bytes below the stack at the switch: the exception frame there was written"),
                      RunReport.describe(wide))
        XCTAssertEqual(result.stacks.first { $0.task == "wide" }?.overflow, Int(wide.outside), transcript(result))
    }

    /// The after-the-fact techniques let some bytes be written first; the count is reported.
    func testSwitchOutChecksReportHowMuchWasWrittenBelow() throws {
        for technique in [Technique.t4, .t5] {
            let result = try result(technique, on: "mps2-an385")
            let line = result.output.first { $0.hasPrefix("keel-test:below-changed=") }
            XCTAssertNotNil(line, transcript(result))
            print("\(technique.rawValue) on mps2-an385: \(line ?? "?")")
        }
    }
}
