// The task watchdog on the MPS2's CMSDK watchdog: a task that stops checking in within its
// declared deadline stops the kernel's feeding, and the watchdog's NMI resets the board with
// a record naming that task, which the next boot reports again.

import Foundation
import KeelKit
import XCTest

final class WatchdogTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = [.init(app: "watchdog", board: "mps2-an385")]
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testAStuckTaskResetsTheBoardWithARecordNamingIt() throws {
        let result = try TestFirmware.shared.run("watchdog", board: "mps2-an385")
        let log = transcript(result)
        XCTAssertEqual(result.exitCode, 0, log)
        // Five check-ins, then the wait that never ends.
        XCTAssertEqual(result.output.filter { $0.hasPrefix("stuck: round ") }.count, 5, log)
        // The record names the task that missed its deadline (50 ms at 1 kHz: 50 ticks), not the
        // one that kept checking in, and the board resets.
        let fault = try XCTUnwrap(result.faults.first, log)
        XCTAssertEqual([fault.task, fault.kind, fault.action], ["stuck", "watchdog", "reset"], log)
        XCTAssertEqual(fault.limit, 50, log)
        XCTAssertEqual(result.faults.count, 1, log)
        XCTAssertEqual(result.boots, 2, log)
        XCTAssertEqual(result.previousBoots.map { [$0.task, $0.kind] }, [["stuck", "watchdog"]], log)
        XCTAssertTrue(result.output.contains("watchdog: the board was reset 1 time(s); the record above names the task"), log)
        XCTAssertTrue(RunReport.describe(fault).hasPrefix("FAULT task 'stuck': missed its watchdog deadline: no Keel.checkIn() for 50 ticks"),
                      RunReport.describe(fault))
    }
}
