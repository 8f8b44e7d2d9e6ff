// Memory pools on every board (Firmware/Examples/pools): each block handed out once and
// aligned, an empty pool failing at once or after exactly its timeout, a release waking the
// more urgent waiter from a task and from a handler, contents kept, and a double release and
// a foreign pointer each trapping in the task that did it, named with the application's line.

import Foundation
import KeelKit
import XCTest

final class MemoryPoolTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = serviceBoards.map { .init(app: "pools", board: $0) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    /// The line of `Pools.swift` that holds `text`.
    func line(of text: String) throws -> Int {
        let source = try String(contentsOf: KeelRoot.examples.appendingPathComponent("pools/Pools.swift"), encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        return try XCTUnwrap(lines.firstIndex { $0.contains(text) }, text) + 1
    }

    func testBlocksTimeoutsWakeUpsAndMisuseOnEveryBoard() throws {
        for board in serviceBoards {
            let result = try TestFirmware.shared.run("pools", board: board)
            let image = try TestFirmware.shared.image("pools", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            for expected in ["pools: records gave 5 blocks distinct=true aligned=true then nil available 0",
                             "pools: no-wait timed-out after 0 of 0", "pools: timeout timed-out after 5 of 5",
                             "pools: released one, available then 0, got it back true",
                             "pools: task release woke the waiter first: release waiter owner",
                             "pools: handler release woke the waiter after the handler: handler-nil handler waiter owner",
                             "pools: every records block still holds its pattern: true",
                             "pools: cells gave 40 in order=true then nil; after releasing 35 and 3: 3 35 nil",
                             "pools: doubler stopped, stranger stopped, records available 1"] {
                XCTAssertTrue(result.output.contains(expected), "missing '\(expected)'; \(log)")
            }
            // Each misuse is the task's own fault, at the application's call, with the pool's reason.
            let faults = try decodedFaults(result, image)
            XCTAssertEqual(faults.map(\.task), ["doubler", "stranger"], log)
            guard faults.count == 2 else { continue }
            // The doubler's second release is the line before its "without a trap" print.
            let calls = [try line(of: "print(\"pools: doubler released twice") - 1, try line(of: "records.release(UnsafeMutableRawPointer($0))")]
            for (fault, expectedLine, reason) in [(faults[0], calls[0], "released twice"), (faults[1], calls[1], "not a block of this pool")] {
                let shown = RunReport.describe(fault)
                XCTAssertEqual(fault.action, "kill", shown)
                XCTAssertEqual(fault.location?.trapReason, "precondition failure", shown)
                XCTAssertTrue(fault.location?.trapLine?.contains(reason) == true, "\(board): \(shown) \(String(describing: fault.location))")
                XCTAssertEqual(fault.applicationCaller?.file, "Pools.swift", shown)
                XCTAssertEqual(fault.applicationCaller?.line, expectedLine, "\(board): \(shown)")
                XCTAssertTrue(shown.contains("called from Pools.swift:\(expectedLine) in \(fault.task)Task"), shown)
            }
        }
    }
}
