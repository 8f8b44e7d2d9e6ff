// Every fault says where and why: a Swift trap's reason and source line, and a backtrace of
// the faulting task, on every board; and a backtrace after a stacking fault (the MPU and the
// limit register stop the hardware's push, so no PC was stacked).

import Foundation
import KeelKit
import XCTest

final class FaultSourceTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = allBoards.map { .init(app: "traps", board: $0) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    static let trapsSource = KeelRoot.examples.appendingPathComponent("traps/Traps.swift")

    /// The line of Traps.swift that holds `text` (so the test follows edits of the example).
    func line(of text: String) throws -> Int {
        let lines = try String(contentsOf: Self.trapsSource, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        return try XCTUnwrap(lines.firstIndex { $0.contains(text) }, "no '\(text)' in Traps.swift") + 1
    }

    /// The run's faults as `keel run` shows them: PCs and stack words decoded against the image.
    /// Each task's trap: its reason, the line that traps, and the calls that led there.
    func expectations() throws -> [(task: String, reason: String, line: Int, calls: [String])] {
        [("divider", "Division by zero", try line(of: "total / count"), ["average(total:count:)", "summarize(_:)", "dividerTask()"]),
         ("unwrapper", "Unexpectedly found nil while unwrapping an Optional value", try line(of: "calibration(of: runtimeZero())!"), ["unwrapperTask()"]),
         ("indexer", "Index out of range", try line(of: "readings[index]"), ["reading(_:at:)", "indexerTask()"]),
         ("checker", "precondition failure", try line(of: "precondition(level < 100"), ["setLevel(_:)", "checkerTask()"]),
         ("panicker", "fatal error", try line(of: "fatalError(\"sensor 0"), ["mustCalibrate(_:)", "panickerTask()"])]
    }

    func testEveryTrapSaysWhyAndWhereWithABacktraceOnEveryBoard() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("traps", board: board)
            let faults = try decodedFaults(result, try TestFirmware.shared.image("traps", board: board))
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.output.contains("referee: all five stopped, the run goes on"), log)
            for expected in try expectations() {
                let fault = try XCTUnwrap(faults.first { $0.task == expected.task }, "\(expected.task); \(log)")
                let shown = ([RunReport.describe(fault)] + RunReport.backtraceLines(fault)).joined(separator: "\n")
                XCTAssertEqual(fault.location?.trapReason, expected.reason, "\(board): \(shown)")
                XCTAssertTrue(RunReport.describe(fault).hasPrefix(
                    "FAULT task '\(expected.task)': Swift runtime failure: \(expected.reason) at Traps.swift:\(expected.line) in \(expected.calls[0]); pc "),
                              "\(board): \(shown)")
                let frames = fault.backtrace.map { $0.location?.frames.first { $0.file != nil } }
                XCTAssertEqual(frames.map { $0?.function }, expected.calls, "\(board): \(shown)")
                XCTAssertEqual(frames.first??.line, expected.line, "\(board): \(shown)")
                XCTAssertTrue(frames.allSatisfy { $0?.file == "Traps.swift" }, "\(board): \(shown)")
                XCTAssertFalse(fault.backtrace.contains { $0.frame.isGuess }, "\(board): nothing guessed; \(shown)")
                XCTAssertEqual(fault.backtraceEnding, .taskEntry, "\(board): \(shown)")
            }
            // The image keeps no precondition or fatalError message: the source line shows it.
            let checker = try XCTUnwrap(faults.first { $0.task == "checker" })
            XCTAssertEqual(checker.location?.trapLine, "precondition(level < 100, \"level must be below 100\")", log)
            let panicker = try XCTUnwrap(faults.first { $0.task == "panicker" })
            XCTAssertEqual(panicker.location?.trapLine, "if sensor == 0 { fatalError(\"sensor 0 is not calibrated\") }", log)
        }
    }

    /// `keel run` as a person runs it: the reason, file:line and the backtrace in what it prints.
    func testKeelRunPrintsReasonLineAndBacktrace() throws {
        let outcome = try runProcess(["run", "--board", "mps2-an385", "--app", KeelRoot.examples.appendingPathComponent("traps").path])
        XCTAssertEqual(outcome.status, 0, outcome.output + outcome.errors)
        let lines = outcome.output.split(separator: "\n").map(String.init)
        let divide = try line(of: "total / count"), summarize = try line(of: "average(total: total, count: readings)")
        let fault = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("FAULT task 'divider': ") }, outcome.output)
        XCTAssertTrue(lines[fault].hasPrefix(
            "FAULT task 'divider': Swift runtime failure: Division by zero at Traps.swift:\(divide) in average(total:count:); pc 0x"), outcome.output)
        XCTAssertEqual(Array(lines[(fault + 1)...].prefix(5)), [
            "  Traps.swift:\(divide): total / count",
            "  backtrace:",
            "  #0 average(total:count:) at Traps.swift:\(divide)",
            "  #1 summarize(_:) at Traps.swift:\(summarize)",
            "  #2 dividerTask() at Traps.swift:\(try line(of: "print(\"divider: "))",
        ], outcome.output)
        XCTAssertTrue(lines.contains("  Traps.swift:\(try line(of: "precondition(level")): precondition(level < 100, \"level must be below 100\")"),
                      outcome.output)
        XCTAssertFalse(outcome.output.contains("keel:stack-words"), "the stack words are decoded, not shown")
    }

    /// T3 on both MPU boards: the MPU refused the exception frame's push, so the record has no
    /// PC; the backtrace comes from the stack words, starts with a guess and names the recursion.
    func testStackingFaultHasABacktraceFromTheStackWords() throws {
        for name in ["mps2-an385", "mps2-an505"] {
            let board = try BoardCatalog.board(named: name)
            let result = try TestFirmware.shared.run("mpu-overflow", board: name, variant: Protection.mpuGuard.rawValue,
                                                     change: FaultMatrix.variant(.mpuGuard, board: board))
            let image = try TestFirmware.shared.image("mpu-overflow", board: name, variant: Protection.mpuGuard.rawValue,
                                                      change: FaultMatrix.variant(.mpuGuard, board: board))
            for (task, function) in [("deep", "recurse(_:)"), ("relapse", "recurseYielding(_:)")] {
                let fault = try XCTUnwrap(try decodedFaults(result, image).first { $0.task == task }, "\(name) \(task)")
                let shown = ([RunReport.describe(fault)] + RunReport.backtraceLines(fault)).joined(separator: "\n")
                XCTAssertTrue(fault.stackingFailed, "\(name): \(shown)")
                XCTAssertEqual(fault.pc, 0, "\(name): \(shown)")
                XCTAssertGreaterThanOrEqual(fault.backtrace.count, 3, "\(name): \(shown)")
                XCTAssertEqual(fault.backtrace.first?.frame.kind, .calledFunction, "\(name): \(shown)")
                XCTAssertTrue(fault.backtrace.first?.frame.isGuess == true, "\(name): \(shown)")
                let functions = fault.backtrace.map { $0.location?.frames.first { $0.file != nil }?.function }
                XCTAssertEqual(Set(functions), [function], "\(name): \(shown)")
                XCTAssertTrue(RunReport.backtraceLines(fault).first?.contains("no PC in the record") == true, "\(name): \(shown)")
            }
        }
    }

    /// T1 on the M33: PSPLIM refuses the prologue's SP move, the PC is stacked in the function
    /// that was entering; the walk from LR and the frame sizes is exact, no frame guessed.
    func testLimitRegisterFaultHasAnExactBacktrace() throws {
        let request = OverflowTests.request(.t1, on: "mps2-an505")
        let result = try TestFirmware.shared.run("overflow", board: "mps2-an505", variant: OverflowTests.Technique.t1.rawValue, change: request.change)
        let image = try TestFirmware.shared.image("overflow", board: "mps2-an505", variant: OverflowTests.Technique.t1.rawValue, change: request.change)
        let faults = try decodedFaults(result, image)
        for (task, calls) in [("deep", ["descend(_:)"]), ("wide", ["wide()", "wideTask()"])] {
            let fault = try XCTUnwrap(faults.first { $0.task == task }, transcript(result))
            let shown = ([RunReport.describe(fault)] + RunReport.backtraceLines(fault)).joined(separator: "\n")
            XCTAssertEqual(fault.technique, "limit-register", shown)
            XCTAssertEqual(fault.backtrace.first?.frame.kind, .faultingInstruction, shown)
            XCTAssertFalse(fault.backtrace.contains { $0.frame.isGuess }, shown)
            let functions = fault.backtrace.map { $0.location?.frames.first { $0.file != nil }?.function ?? "?" }
            XCTAssertEqual(Array(functions.prefix(calls.count)), calls, shown)
            if task == "deep" { XCTAssertTrue(functions.allSatisfy { $0 == "descend(_:)" } && functions.count >= 3, shown) }
        }
    }
}
