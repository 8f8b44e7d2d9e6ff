// The kernel's services on every board: thousands of messages through two queues with none
// lost, duplicated or corrupted; every timeout expiring at the tick it names; priority
// inversion bounded by inheritance (and unbounded without it); interrupt wake-ups that run
// the woken task before the interrupted one; a blocking call in a handler found by the
// analysis and reset at run time; an overflow inside a blocking call caught and attributed;
// and the static bound at least what each task and the handler stack really used.

import KeelKit
import XCTest

final class ServicesTests: XCTestCase {
    static var firmware: [TestFirmware.Request] {
        var requests: [TestFirmware.Request] = []
        for board in allBoards {
            for app in ["queues", "inversion", "handler-blocks", "service-overflow"] { requests.append(.init(app: app, board: board)) }
            requests.append(.init(app: "inversion", board: board, variant: "no-inheritance", change: withoutInheritance))
        }
        return requests + ["mps2-an385", "microbit"].map { .init(app: "deadlock", board: $0) }
    }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    /// The test-only build: the same mutex, lending nothing.
    static func withoutInheritance(_ application: inout Application) { application.objects.mutexes[0].inheritsPriority = false }

    func testQueuesDeliverEveryMessageAndTimeoutsExpireOnTheirTick() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("queues", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.faults.isEmpty, log)
            XCTAssertTrue(result.output.contains("consumer: received 5000 lost 0 duplicated 0 corrupt 0 checksum ok"), log)
            for expected in ["timing: receive-empty timed-out after 5 of 5", "timing: try-receive-empty nil",
                             "timing: try-send-full accepted 2 of 2 count 2", "timing: send-full timed-out after 3 of 3",
                             "timing: fifo 0 1 then empty", "timing: take-empty timed-out after 7 of 7",
                             "timing: notification timed-out after 2 of 2", "timing: no-wait timed-out after 0 of 0"] {
                XCTAssertTrue(result.output.contains(expected), "missing '\(expected)'; \(log)")
            }
            try assertStaticBoundCoversMeasured("queues", board: board, result)
        }
    }

    func testInheritanceBoundsTheHighTasksWaitAndItsAbsenceDoesNot() throws {
        for board in allBoards {
            let with = try TestFirmware.shared.run("inversion", board: board)
            let without = try TestFirmware.shared.run("inversion", board: board, variant: "no-inheritance", change: Self.withoutInheritance)
            for result in [with, without] {
                XCTAssertEqual(result.exitCode, 0, "\(board):\n\(transcript(result))")
                XCTAssertTrue(result.faults.isEmpty, "\(board):\n\(transcript(result))")
            }
            let bounded = try XCTUnwrap(waited(with), transcript(with))
            let unbounded = try XCTUnwrap(waited(without), transcript(without))
            // Low's critical section is 20 ticks of its own running time: with inheritance high
            // waits at most that; without, medium's 300-tick spin comes between.
            XCTAssertLessThanOrEqual(bounded, 20, "\(board): with inheritance\n\(transcript(with))")
            XCTAssertGreaterThanOrEqual(unbounded, 300, "\(board): without inheritance\n\(transcript(without))")
            XCTAssertTrue(with.output.contains("low: recursive lock already-held, unlock when free not-held"), transcript(with))
            try assertStaticBoundCoversMeasured("inversion", board: board, with)
        }
    }

    func testInterruptWakesTheMoreUrgentTaskBeforeTheInterruptedOneResumes() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("inversion", board: board)
            XCTAssertTrue(result.output.contains("low: 300 of 300 interrupt wake-ups ran the woken task first"),
                          "\(board):\n\(transcript(result))")
        }
    }

    func testBlockingCallInAHandlerIsAFindingAndResetsAtRunTime() throws {
        let report = try TestFirmware.shared.stackReport("handler-blocks", board: "mps2-an385")
        let chain = try XCTUnwrap(report.handlers.blockingCalls.first, "no blocking call found from the handler")
        XCTAssertEqual(chain.first, "keel_interrupt_dispatch")
        XCTAssertTrue(chain.last?.hasSuffix("keel_wait") == true, "\(chain)")
        XCTAssertTrue(chain.contains { $0.contains("closure") && $0.contains("mainTask") }, "\(chain)")
        // A task may block (outside a critical section): no finding for `main` or `after`.
        let findings = StackCheck.findings(report)
        XCTAssertTrue(findings.contains { $0.kind == .blockingInHandler }, "\(findings)")
        // The inversion example's handler only gives, sends and notifies: no finding.
        XCTAssertEqual(try TestFirmware.shared.stackReport("inversion", board: "mps2-an385").handlers.blockingCalls, [])
        for board in allBoards {
            let result = try TestFirmware.shared.run("handler-blocks", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertEqual(result.faults.first?.kind, "blocking-in-handler", log)
            XCTAssertEqual(result.faults.first?.task, "handler", log)
            XCTAssertEqual(result.faults.first?.action, "reset", log)
            // The second boot: a blocking call with interrupts masked stops the task, and the
            // masking does not outlive it.
            XCTAssertEqual(result.faults.last?.kind, "blocking-with-interrupts-masked", log)
            XCTAssertEqual(result.faults.last?.task, "main", log)
            XCTAssertEqual(result.faults.last?.action, "kill", log)
            XCTAssertTrue(result.output.contains("after: slept 5 ticks, interrupts work after the stopped task"), log)
            XCTAssertFalse(result.output.contains { $0.hasPrefix("not reached") }, log)
        }
    }

    func testOverflowInsideABlockingReceiveIsCaughtAndAttributed() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("service-overflow", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            let fault = try XCTUnwrap(result.faults.first, log)
            XCTAssertEqual(fault.task, "deep", log)
            XCTAssertTrue(fault.isStackOverflow, log)
            XCTAssertNotEqual(fault.technique, "none", log)
            XCTAssertEqual(result.faults.count, 1, "only deep faults: \(log)")
            XCTAssertTrue(result.output.contains("bystander: still running, deep was stopped"), log)
            XCTAssertFalse(result.output.contains { $0.contains("not caught") }, log)
        }
    }

    func testDeadlockIsNamedAndEndsTheRunInsteadOfHanging() throws {
        for board in ["mps2-an385", "microbit"] {
            let result = try TestFirmware.shared.run("deadlock", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 3, log)
            XCTAssertEqual(result.output.filter { $0.hasPrefix("deadlock: ") }, [
                "deadlock: 'left' waits for mutex 'second' held by 'right'",
                "deadlock: 'right' waits for a notification",
                "deadlock: 'listener' waits for a notification",
            ], log)
            XCTAssertEqual(Set(result.stacks.map(\.state)), ["waiting"], log)
            XCTAssertFalse(result.output.contains { $0.hasSuffix("not reached") }, log)
        }
    }

    /// High's line: "high: waited N ticks for bus ...".
    func waited(_ result: RunResult) -> Int? {
        result.output.first { $0.hasPrefix("high: waited ") }.flatMap { Int($0.split(separator: " ")[2]) }
    }

    /// Every task's and the handler stack's static worst case is at least what the run used.
    func assertStaticBoundCoversMeasured(_ app: String, board: String, _ result: RunResult,
                                         file: StaticString = #filePath, line: UInt = #line) throws {
        let report = try TestFirmware.shared.stackReport(app, board: board)
        for stack in result.stacks + [result.handlerStack].compactMap({ $0 }) {
            guard let used = stack.used else { continue }
            let bound: UInt32?
            if stack.task == "handler" { bound = report.handlers.worstBytes }
            else { bound = report.tasks.first { $0.task == stack.task }?.worstBytes }
            let worst = try XCTUnwrap(bound, "\(app) on \(board): \(stack.task) has no static bound", file: file, line: line)
            XCTAssertGreaterThanOrEqual(Int(worst), used, "\(app) on \(board): \(stack.task) used more than its bound", file: file, line: line)
        }
        XCTAssertNotNil(result.handlerStack?.used, "\(app) on \(board): no handler-stack row", file: file, line: line)
    }
}
