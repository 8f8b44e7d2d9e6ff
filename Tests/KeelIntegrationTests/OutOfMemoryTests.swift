// The heap runs out in a task: the task is stopped with an out-of-memory fault, the others go
// on; on a fixed stack and on a segmented one (where the stop goes through PendSV).

import KeelKit
import XCTest

final class OutOfMemoryTests: XCTestCase {
    func assertStopped(_ result: RunResult, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let log = "\(label):\n\(transcript(result))"
        XCTAssertEqual(result.exitCode, 0, log, file: file, line: line)
        XCTAssertEqual(result.faults.map(\.task), ["hungry"], log, file: file, line: line)
        XCTAssertEqual(result.faults.first?.kind, "out-of-memory", log, file: file, line: line)
        XCTAssertEqual(result.faults.first?.action, "kill", log, file: file, line: line)
        XCTAssertGreaterThan(result.faults.first?.limit ?? 0, 0, "the bytes asked for; \(log)", file: file, line: line)
        // Said as what it is: no "sp 0x00000000, stack limit" of a hardware fault that did not happen.
        if let fault = result.faults.first {
            let shown = RunReport.describe(fault)
            XCTAssertTrue(shown.hasPrefix("FAULT task 'hungry': out of memory: the heap could not give \(fault.limit) bytes"), shown, file: file, line: line)
            XCTAssertFalse(shown.contains("stack limit"), shown, file: file, line: line)
        }
        XCTAssertTrue(result.output.contains("steady: still running after the heap ran out"), log, file: file, line: line)
        XCTAssertEqual(result.stacks.first { $0.task == "hungry" }?.state, "killed", log, file: file, line: line)
    }

    static let firmware: [TestFirmware.Request] = allBoards.map { .init(app: "out-of-memory", board: $0) }
        + ["mps2-an385", "microbit"].map { .init(app: "out-of-memory", board: $0, variant: "segmented", change: segmented) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    /// `hungry` on a segmented stack, with a small pool.
    static func segmented(_ application: inout Application) {
        application.tasks = application.tasks.map { task in
            guard task.name == "hungry" else { return task }
            var segmented = TaskSpec(name: task.name, entry: task.entry, priority: task.priority, stackBytes: 1024,
                                     protections: [.paint], segmented: SegmentedStack(initialBytes: 1024, maximumBytes: 4096))
            segmented.expectedFault = task.expectedFault
            return segmented
        }
        application.segmentPoolBytes = 4096
    }

    func testTaskOutOfMemoryIsStoppedOnEveryBoard() throws {
        for board in allBoards { assertStopped(try TestFirmware.shared.run("out-of-memory", board: board), board) }
    }

    func testSegmentedTaskOutOfMemoryIsStoppedThroughPendSV() throws {
        for board in ["mps2-an385", "microbit"] {
            let result = try TestFirmware.shared.run("out-of-memory", board: board, variant: "segmented", change: Self.segmented)
            assertStopped(result, "\(board) segmented")
        }
    }
}
