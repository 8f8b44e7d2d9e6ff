// Time on every board: `sleep(until:)` wakes on exact multiples of the period whatever the
// work in between (no drift), a past deadline only yields, milliseconds follow the tick's
// rate, `sleep(milliseconds:)` rounds up to whole ticks, and the critical section holds.

import KeelKit
import XCTest

final class TimeTests: XCTestCase {
    func testPeriodicTaskDoesNotDriftOnEveryBoard() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("periodic", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.faults.isEmpty, log)
            let wakes = result.output.filter { $0.hasPrefix("keel-test:woke ") }.map(fields)
            XCTAssertEqual(wakes.count, 10, log)
            for (round, wake) in wakes.enumerated() {
                XCTAssertEqual(wake["offset"], 7 * (round + 1), "round \(round + 1) woke off its period; \(log)")
                // 2 kHz: a millisecond is two ticks (read just after the tick count).
                let ticks = try XCTUnwrap(wake["ticks"]), milliseconds = try XCTUnwrap(wake["ms"])
                XCTAssertTrue((ticks / 2)...((ticks + 1) / 2) ~= milliseconds, "\(wake); \(log)")
            }
            XCTAssertTrue(result.output.contains("keel-test:past-deadline waited=0"), log)
            XCTAssertTrue(result.output.contains("keel-test:slept ms=3 ticks=6"), log)
            let shared = result.output.first { $0.hasPrefix("keel-test:shared=") }.flatMap { Int($0.dropFirst(17)) }
            XCTAssertGreaterThan(shared ?? 0, 0, log)
        }
    }

    /// `key=value` fields of a test line, as numbers.
    func fields(_ line: String) -> [String: Int] {
        var values: [String: Int] = [:]
        for pair in line.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }
}
