// The demo pipeline on every board: an interrupt-driven sensor through two queues to a
// logger using `Log`, statistics shared under a mutex, every sample through with none lost
// or dropped, and the runaway task's overflow caught twice (restart, then stop) while the
// pipeline runs on; each pipeline task and the handler stack within its static bound.

import KeelKit
import XCTest

final class DemoTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = allBoards.map { .init(app: "demo", board: $0) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testPipelineRunsThroughTheOverflowOnEveryBoard() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("demo", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.output.contains("logger: 40 samples through the pipeline, 0 lost, 0 dropped by the handler"), log)
            let logged = result.output.filter { $0.hasPrefix("logger: sample ") }
            XCTAssertEqual(logged.count, 40, log)
            XCTAssertTrue(result.output.contains("monitor: 40 samples, min 12, max 815"), log)
            // Samples are taken by the board's hardware timer at 1 kHz, each at the tick of the last
            // or a later one, and logged in the tick they were taken in (or the next: the tick
            // that falls due with the sample is less urgent than the timer's handler). Between
            // samples the idle task stops the tick, and each timer interrupt ends its sleep.
            // Not one sample a tick: under QEMU's -icount a timer whose interrupt wakes the
            // sleeping core loses periods (on the MPS2 boards, every other one), and the tick
            // count, read back from SysTick, shows the time that really passed.
            let ticks = logged.map { line in line.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) } }
            for (index, numbers) in ticks.enumerated() {
                XCTAssertEqual(numbers.count, 4, "\(logged[index]); \(log)")  // sequence, value, taken, logged
                guard numbers.count == 4 else { continue }
                XCTAssertTrue(numbers[3] == numbers[2] || numbers[3] == numbers[2] + 1, "\(logged[index]); \(log)")
                if index > 0, ticks[index - 1].count == 4 {
                    XCTAssertGreaterThanOrEqual(numbers[2], ticks[index - 1][2], "\(logged[index]); \(log)")
                }
            }
            XCTAssertEqual(result.faults.map(\.task), ["runaway", "runaway"], log)
            XCTAssertEqual(result.faults.map(\.action), ["restart", "kill"], log)
            XCTAssertTrue(result.faults.allSatisfy(\.isStackOverflow), log)
            XCTAssertEqual(RunVerdict.evaluate(result, application: try application(board)).explanation, [], log)
            let report = try TestFirmware.shared.stackReport("demo", board: board)
            for stack in result.stacks where stack.task != "runaway" {
                let worst = try XCTUnwrap(report.tasks.first { $0.task == stack.task }?.worstBytes, "\(stack.task); \(log)")
                XCTAssertGreaterThanOrEqual(Int(worst), try XCTUnwrap(stack.used), "\(stack.task) on \(board)")
            }
            let handler = try XCTUnwrap(result.handlerStack?.used, log)
            XCTAssertGreaterThanOrEqual(Int(try XCTUnwrap(report.handlers.worstBytes)), handler, "handler stack on \(board)")
        }
    }

    func application(_ board: String) throws -> Application {
        try Manifest.load(directory: KeelRoot.examples.appendingPathComponent("demo"), board: try BoardCatalog.board(named: board))
    }
}
