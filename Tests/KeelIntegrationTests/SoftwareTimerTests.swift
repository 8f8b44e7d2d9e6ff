// Software timers on every board (Firmware/Examples/timers): each expiry on its tick, run by
// the timer task before `main` wakes on the same tick; one-shot, periodic, reset, stop, a
// start from a handler, a period set at run time; and the timer task's stack sized by the
// analysis from the callbacks it calls.

import KeelKit
import XCTest

final class SoftwareTimerTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = serviceBoards.map { .init(app: "timers", board: $0) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testEveryExpiryComesOnItsTick() throws {
        for board in serviceBoards {
            let result = try TestFirmware.shared.run("timers", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.faults.isEmpty, log)
            XCTAssertEqual(result.output.filter { $0.hasPrefix("timers: ") }, [
                "timers: blink at 10 20 30 40 50, active true",
                "timers: blink stopped: 5 expiries at tick 100, active false",
                "timers: once started at 100 ran at 125 (1 time), active false",
                "timers: watchdog reset 5 times, last at +50, expired 1 time at +30 after it",
                "timers: started from a handler at 400, ran at 407",
                "timers: blink every 4 from 450: 454 458 462",
            ], log)
            // The timer task is a task like the others: above `main`, its stack from the analysis.
            let report = try TestFirmware.shared.stackReport("timers", board: board)
            let timers = try XCTUnwrap(report.tasks.first { $0.task == "timers" }, log)
            XCTAssertTrue(timers.path.contains { $0.function.contains("Expired") || $0.function.contains("waitForDue") }, "\(timers.path.map(\.function))")
            let used = try XCTUnwrap(result.stacks.first { $0.task == "timers" }?.used, log)
            XCTAssertGreaterThanOrEqual(Int(try XCTUnwrap(timers.worstBytes)), used, "\(board): the bound covers what the timer task used")
        }
    }
}
