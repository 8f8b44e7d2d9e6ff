// Mistakes the build can name before anything runs, and reports that count only what is
// there: a queue slot smaller than its element, an interrupt line the board does not have
// (computed at run time: the kernel names it), every blocking call reachable from an interrupt handler at once, a call through a
// stored closure reported as the call it is, only the application's handlers counted as
// interrupt levels.

import KeelKit
import XCTest

final class BuildTimeCheckTests: XCTestCase {
    static var firmware: [TestFirmware.Request] {
        ["mps2-an385", "microbit"].flatMap { board -> [TestFirmware.Request] in
            [.init(app: "handler-waits", board: board, running: false),
             .init(app: "stored-closures", board: board),
             .init(app: "stored-closures", board: board, variant: "no-hint", running: false, change: withoutHints),
             .init(app: "queues", board: board, variant: "short-slot", running: false, change: shortSlot),
             .init(app: "interrupt-line", board: board)]
        } + [.init(app: "stored-closures", board: "microbit", variant: "eight-stacks", running: false, change: eightStacks)]
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
            // `lock` itself may be inlined into the closure (its common case is small): the
            // chain then names the part that waits.
            XCTAssertTrue(chains.contains { $0.contains { $0.hasPrefix("Mutex.lock") } }, "\(board): \(chains)")
            XCTAssertTrue(chains.contains { $0.last?.hasSuffix("keel_sleep") == true }, "\(board): \(chains)")
            let findings = StackCheck.findings(report).filter { $0.kind == .blockingInHandler }
            XCTAssertEqual(findings.count, 4, "\(board): \(findings)")
        }
    }

    /// The stored-closures example without its "indirect_calls".
    static func withoutHints(_ application: inout Application) { application.analysisHints = AnalysisHints() }

    /// A handler running the closures stored in an array: without the manifest's targets, an
    /// unresolved call that may reach the handler itself (never "recursion"), with the fix that
    /// names its targets; with them, bounded, and the run shows the closures ran.
    func testCallThroughAStoredClosureIsACallNotARecursion() throws {
        for board in ["mps2-an385", "microbit"] {
            let open = try TestFirmware.shared.stackReport("stored-closures", board: board, variant: "no-hint")
            let points = open.handlers.unboundedPoints
            XCTAssertFalse(points.isEmpty, "\(board): \(open.handlers)")
            XCTAssertFalse(points.contains { $0.reason.hasPrefix("recursion") }, "\(board): \(points)")
            let point = try XCTUnwrap(points.first { $0.reason.contains("call through a register") }, "\(board): \(points)")
            XCTAssertTrue(point.reason.contains("@objc closure #3 in mainTask()"), point.reason)
            XCTAssertTrue(point.fix.hasPrefix("\"analysis\": {\"indirect_calls\": {\"@objc closure #3 in mainTask()\""), point.fix)
            XCTAssertEqual(point.path.first, "keel_interrupt_dispatch", "\(point.path)")

            let bounded = try TestFirmware.shared.stackReport("stored-closures", board: board)
            XCTAssertNotNil(bounded.handlers.worstBytes, "\(board): \(bounded.handlers.unbounded)")
            XCTAssertEqual(StackCheck.findings(bounded), [], board)
            let result = try TestFirmware.shared.run("stored-closures", board: board)
            XCTAssertTrue(result.output.contains("stored-closures: total 6"), "\(board):\n\(transcript(result))")
        }
    }

    /// The kernel's own closure that the fault path runs on a fresh stack has its address taken,
    /// but it is no interrupt handler (on the micro:bit it was counted as a second level). The
    /// application's three @convention(c) closures may each be attached, as far as the image
    /// shows, and the console's transmit interrupt is where the console runs by interrupt
    /// (ConsoleRing.swift): four handlers, four levels, no other kernel function among them. Each level above the deepest costs its own
    /// handler's depth, not the deepest one's: the console's short handler adds little.
    func testOnlyTheApplicationsHandlersAreInterruptLevels() throws {
        for board in ["mps2-an385", "microbit"] {
            let report = try TestFirmware.shared.stackReport("stored-closures", board: board)
            let handlers = report.handlers
            // The micro:bit keeps its console polled by default (16 KiB): no handler of its own there.
            let console = board == "microbit" ? [] : ["keel_console_interrupt"]
            XCTAssertEqual(handlers.interruptHandlers, (1...3).map { "@objc closure #\($0) in mainTask()" } + console, board)
            XCTAssertEqual(handlers.interruptLevels, 3 + console.count, board)
        }
    }

    /// The queues example with "element_bytes": 4 for its 8-byte `Reading`.
    static func shortSlot(_ application: inout Application) {
        let index = application.objects.queues.firstIndex { $0.name == "cooked" }!
        application.objects.queues[index].elementBytes = 4
    }

    /// A slot smaller than its element fails the build, naming the queue and the size to
    /// declare (it used to boot-loop with 26 FAULT lines that never named the queue).
    func testQueueSlotSmallerThanItsElementFailsTheBuild() throws {
        for board in ["mps2-an385", "microbit"] {
            XCTAssertThrowsError(try TestFirmware.shared.image("queues", board: board, variant: "short-slot", change: Self.shortSlot)) { error in
                let error = error as? KeelError
                XCTAssertEqual(error?.exitCode, 2, board)
                XCTAssertTrue(error?.description.hasSuffix("keel.json: 'queues'.'cooked': an element of type Reading is 8 bytes "
                    + "(its MemoryLayout<Reading>.stride), but \"element_bytes\" says 4; declare \"element_bytes\": 8") ?? false,
                    "\(board): \(String(describing: error))")
            }
            // The example as written builds.
            XCTAssertNoThrow(try TestFirmware.shared.image("queues", board: board), board)
        }
    }

    /// A line computed at run time is the kernel's to refuse: one console line names it, the
    /// task stops with a fault record, the other task runs on. (A constant line is refused by
    /// the build: InterruptLineCheckTests.)
    func testAnInterruptLineTheBoardDoesNotHaveIsNamedAtRunTime() throws {
        for board in ["mps2-an385", "microbit"] {
            let result = try TestFirmware.shared.run("interrupt-line", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            let lines = try BoardCatalog.board(named: board).interruptLines
            XCTAssertTrue(result.output.contains { $0.hasPrefix("attachInterrupt(1000): no such interrupt line; this board has lines 0-\(lines - 1)") }
                || result.output.contains { $0.hasPrefix("attachInterrupt(1001): no such interrupt line; this board has lines 0-\(lines - 1)") }, log)
            XCTAssertEqual(result.faults.map(\.task), ["main"], log)
            XCTAssertTrue(result.output.contains("after: still running"), log)
            XCTAssertFalse(result.output.contains { $0.hasPrefix("not reached") }, log)
        }
    }

    /// Eight tasks of 1408 bytes: the planner's stacks fit, the image's data does not.
    static func eightStacks(_ application: inout Application) {
        application.handlerStackBytes = 2048  // the example's own is larger; the figures below are for this
        let task = application.tasks[0]
        application.tasks = (0..<8).map { index in
            var copy = task
            copy.name = "t\(index)"
            copy.stackBytes = 1408
            return copy
        }
    }

    /// A layout that leaves too little RAM for the image's data says so in the manifest's terms
    /// (it used to end in ld.lld's "section '.bss' will not fit in region 'RAM'").
    func testALayoutThatDoesNotFitSaysWhichStacksAndHowManyBytes() throws {
        XCTAssertThrowsError(try TestFirmware.shared.image("stored-closures", board: "microbit", variant: "eight-stacks",
                                                           change: Self.eightStacks)) { error in
            let error = error as? KeelError
            XCTAssertEqual(error?.exitCode, 2)
            let text = error?.description ?? ""
            XCTAssertTrue(text.hasPrefix("impossible layout: the image's data, bss and heap need "), text)
            XCTAssertTrue(text.contains("the stacks take 13824 bytes (t0 1408, t1 1408, t2 1408, t3 1408, t4 1408, t5 1408, t6 1408, "
                + "t7 1408, handler 2048, idle 512, with guards and padding)"), text)
            XCTAssertTrue(text.contains("bytes smaller in all"), text)
            XCTAssertFalse(text.contains("ld.lld"), text)
        }
    }
}
