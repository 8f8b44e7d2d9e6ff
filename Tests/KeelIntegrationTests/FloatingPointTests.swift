// Hardware floating point on the boards that have an FPU: tasks and interrupt handlers that
// compute in floats at once, preempted and nested in the middle of their arithmetic, and a task
// that faults with live FP state and is restarted, all give bit-for-bit the results of the
// same computation run undisturbed; the stack analysis counts their extended frames and is
// never below what they used. The board's hardware timer (`DeviceTimer`) interrupts at the
// rate asked for, against the tick. The boards the earlier issues did not have also run the demo.
//
// Representative rather than exhaustive (the suite must stay under ten minutes): one board
// per FPU and architecture (the M4F on a real STM32 map, the M7's double-precision FPU, the
// M33, the M55), and the soft-float build of the same program on the M3 as the reference.

import Foundation
import KeelKit
import XCTest

let floatBoards = ["netduinoplus2", "mps2-an500", "mps2-an505", "mps3-an547"]

final class FloatingPointTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = (floatBoards + ["mps2-an385"]).map { .init(app: "float-context", board: $0) }
        + ["netduinoplus2", "mps3-an547"].map { .init(app: "demo", board: $0) }
        + ["mps2-an505", "mps3-an547"].map { .init(app: "fp-reservation", board: $0) }
        + [.init(app: "fp-lazy", board: "mps2-an386")]
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testFloatingPointStateSurvivesPreemptionNestingAndRestart() throws {
        var results: [String: [String]] = [:]
        for board in floatBoards + ["mps2-an385"] {
            let result = try TestFirmware.shared.run("float-context", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            let workers = result.output.filter { $0.hasPrefix("fp: worker-") }
            XCTAssertEqual(workers.count, 2, log)
            for line in workers {
                XCTAssertTrue(line.contains("rounds 40 mismatches 0 "), line + "\n" + log)
                // The tick really came in the middle of the arithmetic, many times.
                let preempted = Int(line.components(separatedBy: "preempted ").last?.split(separator: " ").first ?? "") ?? 0
                XCTAssertGreaterThan(preempted, 10, line + "\n" + log)
            }
            let handlers = try XCTUnwrap(result.output.first { $0.hasPrefix("fp: handlers ") }, log)
            let numbers = handlers.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
            // low N runs 0 mismatches, high M runs 0 mismatches: every low run raised the high one.
            XCTAssertEqual(numbers.count, 4, handlers)
            if numbers.count == 4 {
                XCTAssertGreaterThan(numbers[0], 20, handlers)
                XCTAssertEqual(numbers[1], 0, handlers)
                XCTAssertEqual(numbers[2], numbers[0], handlers)
                XCTAssertEqual(numbers[3], 0, handlers)
            }
            XCTAssertTrue(result.output.contains("fp: crasher starts 3 mismatches 0"), log)
            // The board's hardware timer at 1 kHz against the 10 kHz tick, the CPU busy: one
            // interrupt every ten ticks (give or take the one in flight), each handler's
            // arithmetic exact.
            let timer = try XCTUnwrap(result.output.first { $0.hasPrefix("fp: device timer ") }, log)
            let counts = timer.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
            XCTAssertEqual(counts.count, 4, timer)  // interrupts, ticks, 10 (kHz), mismatches
            if counts.count == 4 {
                XCTAssertEqual(counts[1], 200, timer)
                XCTAssertLessThanOrEqual(abs(counts[0] - counts[1] / 10), 1, "\(board): \(timer)")
                XCTAssertEqual(counts[3], 0, timer)
            }
            // Three faults of the crasher, with FP state live, each a division by zero.
            XCTAssertEqual(result.faults.map(\.task), ["crasher", "crasher", "crasher"], log)
            XCTAssertEqual(result.faults.map(\.action), ["restart", "restart", "kill"], log)
            results[board] = workers.map { String($0.split(separator: " ").last ?? "") }.sorted()
            // The analysis counts extended frames for the tasks that compute in floats (on an
            // FPU board) and is never below what any task used.
            let report = try TestFirmware.shared.stackReport("float-context", board: board)
            let hard = try BoardCatalog.board(named: board).fpu != nil
            for name in ["worker-a", "worker-b", "crasher"] {
                let task = try XCTUnwrap(report.tasks.first { $0.task == name }, name)
                XCTAssertEqual(task.floatingPoint != nil, hard, "\(board) \(name): \(task.floatingPoint ?? [])")
                XCTAssertEqual(task.exceptionFrameBytes, hard ? FloatingPointUse.extendedFrameBytes : StackAnalysis.exceptionFrameBytes, board)
            }
            XCTAssertEqual(report.handlers.floatingPoint != nil, hard, "\(board): \(report.handlers.floatingPoint ?? [])")
            // Only the crasher's fault is on purpose: every other stack holds its worst case.
            XCTAssertEqual(StackCheck.findings(report).filter { $0.task != "crasher" }.map(\.description), [], board)
            for stack in result.stacks {
                let worst = stack.task == "handler" ? report.handlers.worstBytes : report.tasks.first { $0.task == stack.task }?.worstBytes
                XCTAssertGreaterThanOrEqual(Int(try XCTUnwrap(worst, "\(board) \(stack.task)")), try XCTUnwrap(stack.used), "\(board) \(stack.task)")
            }
        }
        // Hard float on every FPU gives the soft-float build's results bit for bit.
        for board in floatBoards { XCTAssertEqual(results[board], results["mps2-an385"], board) }
    }

    /// T1 on the M33 and the M55: an FP task whose SP is more than a basic frame but less than
    /// an extended one above its limit when the tick comes; the lazily reserved frame crosses
    /// the limit and PSPLIM refuses the stacking before a byte is written.
    func testTheLimitRegisterCatchesAnOverflowDuringTheLazyReservation() throws {
        for board in ["mps2-an505", "mps3-an547"] {
            let result = try TestFirmware.shared.run("fp-reservation", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            let line = try XCTUnwrap(result.output.first { $0.hasPrefix("fp-reservation: SP was ") }, log)
            let numbers = line.split(separator: " ").compactMap { Int($0) }
            XCTAssertEqual(numbers.count, 2, line)
            // A basic frame (32 bytes and an alignment word) fits; the extended one (108) does not.
            XCTAssertGreaterThan(numbers.first ?? 0, 36, line)
            XCTAssertLessThan(numbers.last ?? 999, 108, line)
            let fault = try XCTUnwrap(result.faults.first, log)
            XCTAssertEqual(result.faults.count, 1, log)
            XCTAssertEqual(fault.task, "digger", log)
            XCTAssertTrue(fault.isStackOverflow, log)
            XCTAssertEqual(fault.technique, "limit-register", log)
            XCTAssertTrue(fault.stackingFailed, log)
            XCTAssertEqual(fault.evidence, "refused", log)
            XCTAssertEqual(fault.outside, 0, log)
        }
    }

    /// A 32-byte guard jumped by an FP task's extended frame, and the lazy FP state then
    /// written into it by PendSV's save: MemManage with MLSPERR in PendSV, named as the task's
    /// overflow caught by its guard (not the kernel's fault), the task stopped, the rest going
    /// on; and `keel check` had said the guard was too small for the task's frames.
    func testALazyStateFaultIsTheTasksOverflowAndTheSystemGoesOn() throws {
        let result = try TestFirmware.shared.run("fp-lazy", board: "mps2-an386")
        let log = transcript(result)
        XCTAssertEqual(result.exitCode, 0, log)
        XCTAssertTrue(result.output.contains { $0.hasPrefix("fp-lazy: ") }, log)
        XCTAssertEqual(result.faults.count, 1, log)
        let fault = try XCTUnwrap(result.faults.first, log)
        XCTAssertEqual(fault.task, "digger", log)
        XCTAssertTrue(fault.isStackOverflow, log)
        XCTAssertEqual(fault.technique, "mpu-guard", log)
        XCTAssertEqual(fault.cfsr & 0x20, 0x20, "MLSPERR; \(log)")
        XCTAssertEqual(fault.action, "kill", log)
        let report = try TestFirmware.shared.stackReport("fp-lazy", board: "mps2-an386")
        let findings = StackCheck.findings(report).filter { $0.kind == .floatingPointFrameJumpsGuard }
        XCTAssertEqual(findings.map(\.task), ["digger"], "\(findings)")
        XCTAssertTrue(findings.first?.message.contains("declare \"guard\": 128") == true, findings.first?.message ?? "")
    }

    func testTheNewBoardsRunTheDemo() throws {
        for board in ["netduinoplus2", "mps3-an547"] {
            let result = try TestFirmware.shared.run("demo", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.output.contains("logger: 40 samples through the pipeline, 0 lost, 0 dropped by the handler"), log)
            XCTAssertEqual(result.faults.map(\.task), ["runaway", "runaway"], log)
        }
    }
}
