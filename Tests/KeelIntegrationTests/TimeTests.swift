// Time on every board: `sleep(until:)` wakes on exact multiples of the period whatever the
// work in between (no drift), a past deadline only yields, milliseconds follow the tick's
// rate, `sleep(milliseconds:)` rounds up to whole ticks, and the critical section holds.
// Tickless idle (on by default, so every example above runs with it) keeps every timeout exact
// across sleeps longer than SysTick reaches at once and across early wakes by the hardware timer.

import KeelKit
import XCTest

final class TimeTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = allBoards.map { .init(app: "tickless", board: $0) }

    func testTicklessIdleKeepsEveryTimeoutExactOnEveryBoard() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("tickless", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.faults.isEmpty, log)
            // Sleeps from one tick to more than SysTick's 24 bits hold at once, a period, and
            // timed-out waits: each woke on the very tick it asked for.
            let slept = result.output.filter { $0.hasPrefix("keel-test:slept ") }.map(fields)
            XCTAssertEqual(slept.map { $0["span"] }, [1, 2, 3, 49, 670, 671, 672, 1500, 2], log)
            let periods = result.output.filter { $0.hasPrefix("keel-test:period ") }.map(fields)
            let timeouts = result.output.filter { $0.hasPrefix("keel-test:timeout ") }.map(fields)
            XCTAssertEqual(periods.count, 4, log)
            XCTAssertEqual(timeouts.count, 3, log)
            for wake in slept + periods + timeouts { XCTAssertEqual(wake["late"], 0, "\(wake); \(log)") }
            // Every timer interrupt woke the sampler (each ending an idle sleep early), in order.
            let offsets = result.output.filter { $0.hasPrefix("keel-test:timer ") }.map(fields).compactMap { $0["offset"] }
            XCTAssertEqual(offsets.count, 10, log)
            XCTAssertEqual(offsets, offsets.sorted(), log)
            XCTAssertEqual(Set(offsets).count, 10, log)
            // The tick was stopped for most of the run: the idle task counted over 90% of the
            // ticks on waking, in far fewer sleeps than ticks.
            let idle = try XCTUnwrap(result.output.first { $0.hasPrefix("keel-test:idle ") }.map(fields), log)
            let ticks = try XCTUnwrap(idle["ticks"]), ticksSlept = try XCTUnwrap(idle["slept"]), sleeps = try XCTUnwrap(idle["sleeps"])
            XCTAssertGreaterThan(ticksSlept * 10, ticks * 9, log)
            XCTAssertGreaterThan(sleeps, 10, log)
            XCTAssertLessThan(sleeps * 20, ticks, log)
        }
    }

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
