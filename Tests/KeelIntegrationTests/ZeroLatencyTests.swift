// Zero-latency interrupts on ARMv7-M and ARMv8-M Mainline: the kernel masks with BASEPRI at
// its ceiling, so a handler declared above it runs at once inside the kernel's critical
// sections (an attached one waits for their end), only PRIMASK holds it off, `attachInterrupt`
// refuses a priority above the ceiling, and `keel check` names a zero-latency handler that
// reaches the kernel. The M3, the M33 and the STM32 (4 priority bits, where QEMU keeps 8).

import Foundation
import KeelKit
import XCTest

final class ZeroLatencyTests: XCTestCase {
    static let boards = ["mps2-an385", "mps2-an505", "netduinoplus2"]
    static let firmware: [TestFirmware.Request] = boards.map { .init(app: "zero-latency", board: $0) }
        + [.init(app: "zero-latency", board: "mps2-an385", variant: "kernel-calling", running: false, change: kernelCalling)]
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    /// The zero-latency handler swapped for the one that enters the kernel's critical section.
    static func kernelCalling(_ application: inout Application) {
        application.zeroLatencyInterrupts[0].handler = "kernelCallingTick"
    }

    func testAZeroLatencyHandlerRunsInsideTheKernelsCriticalSections() throws {
        for board in Self.boards {
            let result = try TestFirmware.shared.run("zero-latency", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.output.contains("zli: inside the kernel's mask: zero-latency ran 1, attached ran 0; after it: attached ran 1"), log)
            XCTAssertTrue(result.output.contains("zli: with every interrupt masked: zero-latency ran 0; after it: 2 runs"), log)
            // attachInterrupt above the ceiling: one line naming it, then the task's fault record.
            XCTAssertTrue(result.output.contains("attachInterrupt(11, priority: 32): more urgent than the kernel's ceiling 64 (0x40); "
                                                 + "declare it in keel.json's \"zero_latency_interrupts\""), log)
            XCTAssertEqual(result.faults.map(\.task), ["greedy"], log)
            let report = try TestFirmware.shared.stackReport("zero-latency", board: board)
            XCTAssertEqual(report.handlers.kernelCallsAboveCeiling, [], board)
            XCTAssertTrue(report.handlers.interruptHandlers.contains("keel_zero_latency_9 (zero-latency, line 9)"), "\(report.handlers.interruptHandlers)")
        }
    }

    func testKeelCheckNamesAZeroLatencyHandlerThatReachesTheKernel() throws {
        let report = try TestFirmware.shared.stackReport("zero-latency", board: "mps2-an385", variant: "kernel-calling")
        XCTAssertEqual(report.handlers.kernelCallsAboveCeiling.count, 1, "\(report.handlers.kernelCallsAboveCeiling)")
        // The chain ends in the function that masks at the ceiling (inline: the Keel call itself).
        let last = try XCTUnwrap(report.handlers.kernelCallsAboveCeiling.first?.last)
        XCTAssertFalse(last.hasPrefix("keel_zero_latency"), last)
        let findings = StackCheck.findings(report).filter { $0.kind == .kernelCallAboveCeiling }
        XCTAssertEqual(findings.count, 1)
        XCTAssertTrue(findings.first?.message.hasPrefix("a zero-latency interrupt (above the kernel's ceiling 0x40, never masked by it) reaches the kernel: keel_zero_latency_9") == true,
                      findings.first?.message ?? "")
    }

    /// The manifest refuses what the hardware cannot do, naming the key.
    func testTheManifestRefusesImpossibleZeroLatencyInterrupts() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-zli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        try "func t() {}\nfunc h() {}\n".write(to: directory.appendingPathComponent("App.swift"), atomically: true, encoding: .utf8)
        func problem(_ entry: String, board: String) throws -> String? {
            let manifest = #"{"name": "z", "zero_latency_interrupts": [\#(entry)], "tasks": [{"name": "t", "entry": "t", "priority": 1, "stack": 1024}]}"#
            try manifest.write(to: directory.appendingPathComponent("keel.json"), atomically: true, encoding: .utf8)
            do { _ = try Manifest.load(directory: directory, board: try BoardCatalog.board(named: board)); return nil } catch {
                return "\(error)".components(separatedBy: "keel.json: ").last
            }
        }
        XCTAssertNil(try problem(#"{"line": 9, "priority": 32, "handler": "h"}"#, board: "mps2-an385"))
        XCTAssertEqual(try problem(#"{"line": 9, "priority": 64, "handler": "h"}"#, board: "mps2-an385"),
                       "'zero_latency_interrupts[0].priority' must be more urgent than the kernel's ceiling 64 (0x40): 0-63")
        XCTAssertEqual(try problem(#"{"line": 9, "priority": 16, "handler": "h"}"#, board: "mps2-an385"),
                       "'zero_latency_interrupts[0].priority' 16 is not a priority mps2-an385 has: its NVIC keeps 3 bits, so above the ceiling it has 0, 32")
        XCTAssertNil(try problem(#"{"line": 9, "priority": 16, "handler": "h"}"#, board: "netduinoplus2"))
        XCTAssertEqual(try problem(#"{"line": 32, "priority": 0, "handler": "h"}"#, board: "mps2-an385"),
                       "'zero_latency_interrupts[0].line' must be a line of mps2-an385: 0-31")
        XCTAssertTrue(try problem(#"{"line": 3, "priority": 0, "handler": "h"}"#, board: "microbit")?
            .hasPrefix("'zero_latency_interrupts': microbit (cortex-m0, ARMv6-M) has no BASEPRI") == true)
    }
}
