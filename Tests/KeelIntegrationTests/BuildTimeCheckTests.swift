// Mistakes the build can name before anything runs: every blocking call reachable from an
// interrupt handler at once, and a call through a stored closure reported as the call it is.

import KeelKit
import XCTest

final class BuildTimeCheckTests: XCTestCase {
    static var firmware: [TestFirmware.Request] {
        ["mps2-an385", "microbit"].map { .init(app: "handler-waits", board: $0, running: false) }
    }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    /// Four blocking calls in two handlers (two inlined into one closure, one through a helper
    /// of the application that the compiler inlined): four findings, each with its chain.
    func testEveryBlockingCallFromEveryHandlerIsListedAtOnce() throws {
        for board in ["mps2-an385", "microbit"] {
            let report = try TestFirmware.shared.stackReport("handler-waits", board: board)
            let chains = report.handlers.blockingCalls
            XCTAssertEqual(chains.count, 4, "\(board): \(chains)")
            XCTAssertTrue(chains.allSatisfy { $0.first == "keel_interrupt_dispatch" }, "\(board): \(chains)")
            XCTAssertEqual(chains.filter { $0.contains { $0.hasPrefix("@objc closure #1 in mainTask()") } }.count, 2, "\(board): \(chains)")
            XCTAssertEqual(chains.filter { $0.contains { $0.hasPrefix("@objc closure #2 in mainTask()") } }.count, 2, "\(board): \(chains)")
            XCTAssertTrue(chains.contains { $0.contains("Mutex.lock(timeout:)") }, "\(board): \(chains)")
            XCTAssertTrue(chains.contains { $0.last?.hasSuffix("keel_sleep") == true }, "\(board): \(chains)")
            let findings = StackCheck.findings(report).filter { $0.kind == .blockingInHandler }
            XCTAssertEqual(findings.count, 4, "\(board): \(findings)")
        }
    }
}
