// Stream buffers on every board (Firmware/Examples/streams): a byte-at-a-time handler wakes
// the reader once per trigger level, a timeout returns a partial read and throws only when
// nothing came, a full buffer takes what fits, and 3000 bytes arrive whole and in order.

import KeelKit
import XCTest

final class StreamBufferTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = serviceBoards.map { .init(app: "streams", board: $0) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testTriggerLevelsTimeoutsAndOrder() throws {
        for board in serviceBoards {
            let result = try TestFirmware.shared.run("streams", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.faults.isEmpty, log)
            XCTAssertEqual(result.output.filter { $0.hasPrefix("streams: ") }, [
                "streams: woke once with 4 bytes (0 1 2 3) after 4 interrupts",
                "streams: partial read of 2 bytes (4 5) after 5 of 5 ticks",
                "streams: empty read timed-out after 3 of 3",
                "streams: a 2-byte read woke with 2 after 2 interrupts",
                "streams: a 24-byte buffer took 20 then 4 of 20, then a write timed-out after 2 of 2",
                "streams: 3000 bytes through a 24-byte buffer, in order true, left 0",
            ], log)
        }
    }
}
