// Event flags on every board (Firmware/Examples/event-flags): who wakes for which set, in
// which order, what each waiter got and what is left; a set from a handler; an initial
// value; timeouts on their tick.

import KeelKit
import XCTest

final class EventFlagsTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = serviceBoards.map { .init(app: "event-flags", board: $0) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testSetsWakeExactlyTheWaitersTheyCompleteInPriorityOrder() throws {
        for board in serviceBoards {
            let result = try TestFirmware.shared.run("event-flags", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.faults.isEmpty, log)
            let expected = [
                "flags: bit 0 alone wakes no one: set setter left 1",
                "flags: bit 1 completes both's pair: set both:3 setter left 0",
                "flags: bit 3 wakes either: set either:8 setter left 0",
                "flags: bit 2 from a handler wakes either before setter goes on: set either:4 setter left 0",
                "flags: bit 4 goes to the more urgent of two clearing waiters: set first:16 setter left 0",
                "flags: bit 5 is no one's: no one wakes: set setter left 32",
                "flags: bits 0-4 at once: each waiter in turn, second finds bit 4 taken: set first:16 both:3 either:12 setter left 0",
                "flags: ready starts at 5, any of 4 gives 4",
                "flags: all of 0b111 timed-out after 4 of 4",
                "flags: no-wait timed-out after 0 of 0",
                "flags: all of 0b111 after setting bit 1: 7, left 0",
            ]
            XCTAssertEqual(result.output.filter { $0.hasPrefix("flags: ") }, expected, log)
        }
    }
}
