// Containment on evidence only (Firmware/Examples/containment), on every board: a write the MPU
// refused wrote nothing, so the T2 bystander `keeper` is never stopped; the task that ran is the
// one blamed; an after-the-fact catch whose range reached a neighbour's live stack stops it with
// the true cause and says the evidence was only "possible"; one record per stop.

import KeelKit
import XCTest

final class ContainmentTests: XCTestCase {
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    static var firmware: [TestFirmware.Request] {
        allBoards.map { .init(app: "containment", board: $0) }
            + allBoards.map { .init(app: "containment", board: $0, variant: "lingering", running: false, change: lingering) }
    }

    /// The same tasks and one more that sleeps for good: the run goes on after the overflows.
    static func lingering(_ application: inout Application) {
        var lingerer = application.tasks[0]
        lingerer.name = "lingerer"
        lingerer.entry = "lingererTask"
        lingerer.protections = [.paint]
        lingerer.expectedFault = nil
        application.tasks.append(lingerer)
    }

    /// `keel top` and the table a `--timeout` prints say why each stopped task was stopped, as
    /// the stack table at the end of a run does: its own overflow and how far it reached, or
    /// whose overflow harmed it.
    func testTheLiveTableSaysWhyEachStoppedTaskWasStopped() throws {
        for board in allBoards {
            let image = try TestFirmware.shared.image("containment", board: board, variant: "lingering", change: Self.lingering)
            let runner = try XCTUnwrap(TestFirmware.shared.runner)
            let result = try runner.run(image, options: RunOptions(timeoutSeconds: 2, readsTasksAtTimeout: true))
            let log = "\(board):\n\(transcript(result))"
            XCTAssertTrue(result.timedOut, log)
            let table = try XCTUnwrap(result.tasksAtTimeout, "\(board): \(result.tasksAtTimeoutProblem ?? "no problem given")")
            let text = RunReport.taskTable(table)
            let dipper = try XCTUnwrap(result.faults.first { $0.task == "dipper" && !$0.isVictim }, log)
            XCTAssertEqual(table["runaway"]?.overflows, 1, text)
            XCTAssertEqual(table["dipper"]?.overflowBytes, Int(dipper.outside), text)
            XCTAssertEqual(table["sleeper"]?.harmedBy, "dipper", text)
            XCTAssertTrue(text.contains("killed, overflowed, caught before a byte below was written"), text)
            XCTAssertTrue(text.contains("killed, overflowed, up to \(dipper.outside) bytes below the stack in reach"), text)
            XCTAssertTrue(text.contains("killed, stack overwritten by 'dipper'"), text)
            XCTAssertNil(table["keeper"]?.harmedBy, text)
        }
    }

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
