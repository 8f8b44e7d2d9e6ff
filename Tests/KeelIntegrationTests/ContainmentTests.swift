// Containment on evidence only (Firmware/Examples/containment), on every board: a write the MPU
// refused wrote nothing, so the T2 bystander `keeper` is never stopped; the task that ran is the
// one blamed; an after-the-fact catch whose range reached a neighbour's live stack stops it with
// the true cause and says the evidence was only "possible"; one record per stop.

import KeelKit
import XCTest

final class ContainmentTests: XCTestCase {
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    static var firmware: [TestFirmware.Request] { allBoards.map { .init(app: "containment", board: $0) } }

    func testOnlyTheHarmedAreStoppedAndTheCulpritIsTheTaskThatRan() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("containment", board: board)
            let log = transcript(result)
            XCTAssertTrue(result.output.contains("containment: keeper running=yes sleeper running=no"), "\(board): \(log)")
            XCTAssertEqual(result.exitCode, 0, "\(board): \(log)")
            // The three culprits, one record each; the one victim, with its true cause.
            let own = result.faults.filter { !$0.isVictim }
            XCTAssertEqual(own.map(\.task).sorted(), ["dipper", "jumper", "runaway"], "\(board): \(log)")
            XCTAssertTrue(own.allSatisfy(\.isStackOverflow), "\(board): \(log)")
            let victims = result.faults.filter(\.isVictim)
            XCTAssertEqual(victims.map(\.task), ["sleeper"], "\(board): \(log)")
            XCTAssertEqual(victims.first?.cause, "dipper", "\(board): \(log)")
            XCTAssertEqual(victims.first?.proof, "possible", "\(board): only the frame below was proven written; \(log)")
            XCTAssertTrue(victims.first.map(RunReport.describe)?.contains("possibly overwritten by the overflow of 'dipper'") == true, log)
            // What the MPU or the prologue refused wrote nothing below the stack.
            for name in ["runaway", "jumper"] {
                let fault = try XCTUnwrap(own.first { $0.task == name }, "\(board) \(name): \(log)")
                XCTAssertEqual(fault.outside, 0, "\(board) \(name): \(log)")
                if board != "microbit" { XCTAssertEqual(fault.evidence, "refused", "\(board) \(name): \(log)") }
            }
            // The dipper's record and its table row agree on how far it went.
            let dipper = try XCTUnwrap(own.first { $0.task == "dipper" }, log)
            XCTAssertEqual(dipper.evidence, "stack-pointer", "\(board): \(log)")
            XCTAssertEqual(UInt32(dipper.outside), dipper.limit - dipper.sp, "\(board): \(log)")
            let row = try XCTUnwrap(result.stacks.first { $0.task == "dipper" }, log)
            XCTAssertEqual(row.overflow, Int(dipper.outside), "\(board): \(log)")
            // Every overflow shows in the table, whatever caught it.
            for name in ["runaway", "jumper", "dipper"] {
                XCTAssertEqual(result.stacks.first { $0.task == name }?.overflows, 1, "\(board) \(name): \(log)")
            }
            XCTAssertEqual(result.stacks.first { $0.task == "keeper" }?.state, "running", "\(board): \(log)")
        }
    }
}
