// The interrupt-driven console, through the `shell` example: what is typed reaches a task by
// the UART's receive interrupt, what the task prints goes out through the transmit ring, a
// task that fills the ring waits for room (no line lost), a handler that fills it has its
// lines dropped and counted (and the run's end says how many), and the console's own lines
// cannot be taken by `attachInterrupt`.

import Foundation
import KeelKit
import XCTest

final class ShellTests: XCTestCase {
    /// One image per board (an385 and an505 have a CMSDK UART, the micro:bit the nRF51's, the
    /// Netduino the STM32's, whose transmitter QEMU never makes interrupt), each run twice.
    static let boards = allBoards + ["netduinoplus2"]
    static let firmware: [TestFirmware.Request] = boards.map { .init(app: "shell", board: $0, running: false) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    static let session = "help\necho hello keel\nflood 30\nburst 20\nbogus\nexit 3\n"

    func run(_ board: String, typing input: String) throws -> RunResult {
        let image = try TestFirmware.shared.image("shell", board: board)
        let runner = try XCTUnwrap(TestFirmware.shared.runner)
        var options = RunOptions(timeoutSeconds: 60)
        options.input = .bytes(Data(input.utf8))
        return try runner.run(image, options: options)
    }

    func testTypedLinesReachTheTaskAndEveryPrintedLineComesOutInOrder() throws {
        let results = try Self.boards.map { board in (board, try run(board, typing: Self.session)) }
        for (board, result) in results {
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 3, "the shell's `exit 3` ends the run with 3\n" + log)
            let output = result.output
            XCTAssertEqual(output.first, "keel shell: type 'help'", log)
            XCTAssertTrue(output.contains { $0.hasPrefix("commands: help, echo TEXT") }, log)
            XCTAssertTrue(output.contains("hello keel"), log)
            XCTAssertTrue(output.contains("unknown command 'bogus'; 'help' lists them"), log)
            // A task that fills the ring waits for room: all 30 lines, in order, none dropped.
            let flood = output.filter { $0.hasPrefix("flood line ") }
            XCTAssertEqual(flood, (1...30).map { "flood line \($0) of 30 from a task" }, log)
            XCTAssertTrue(output.contains("flood: 30 lines, 0 dropped"), log)
            XCTAssertEqual(result.faults.count, 0, log)
        }
    }

    func testAHandlerThatFillsTheRingHasItsLinesDroppedAndCounted() throws {
        for board in Self.boards {
            let result = try run(board, typing: "burst 20\nexit 0\n")
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            let printed = result.output.filter { $0 == "burst: a line from a handler" }.count
            let summary = try XCTUnwrap(result.output.first { $0.hasPrefix("burst: 20 lines, ") }, log)
            let dropped = try XCTUnwrap(Int(summary.dropFirst("burst: 20 lines, ".count).prefix { $0.isNumber }), log)
            XCTAssertEqual(printed + dropped, 20, "every line either came out or was counted\n" + log)
            if try BoardCatalog.board(named: board).console.transmitInterrupt {
                // 256 bytes hold 8 lines of 29 bytes; the handler cannot wait for the rest.
                XCTAssertGreaterThan(dropped, 0, log)
                XCTAssertEqual(result.consoleLoss, ConsoleLossRecord(droppedLines: dropped, droppedInputBytes: 0), log)
                XCTAssertTrue(transcript(result).contains("console: \(dropped) lines dropped: the transmit ring was full"), log)
            } else {
                // Polled (the STM32 under QEMU): a line goes out before the next is written.
                XCTAssertEqual(dropped, 0, log)
                XCTAssertNil(result.consoleLoss, log)
            }
        }
    }

    /// A line computed at run time that is the console's own is refused by the kernel (one
    /// line, then the task's fault record); a constant one by the build (InterruptLineCheckTests).
    func testTheConsolesLinesCannotBeTakenByAttachInterrupt() throws {
        for board in ["mps2-an385", "microbit"] {
            let line = try BoardCatalog.board(named: board).console.transmitLine
            let result = try run(board, typing: "attach \(line)\n")
            let log = "\(board):\n\(transcript(result))"
            XCTAssertTrue(result.output.contains { $0.hasPrefix("attachInterrupt(\(line)): the console UART's line; use another") }, log)
            XCTAssertEqual(result.faults.map(\.task), ["shell"], log)
            XCTAssertFalse(result.output.contains("attach: the handler ran"), log)
        }
    }

    /// `readLine` with a timeout: the part of a line that came is kept, and the wait ends at
    /// the line's deadline (whole ticks: 30 ms at 1 kHz is 30 ticks, and the wake comes on the
    /// tick after).
    func testReadLineTimesOutWithThePartThatCame() throws {
        for board in ["mps2-an385", "microbit"] {
            let result = try run(board, typing: "wait 30\nab")
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            let line = try XCTUnwrap(result.output.first { $0.hasPrefix("wait: timed out after ") }, log)
            XCTAssertTrue(line.hasSuffix(" of 30 ms with 'ab'"), log)
            let waited = try XCTUnwrap(Int(line.dropFirst("wait: timed out after ".count).prefix { $0.isNumber }), log)
            XCTAssertTrue((30...32).contains(waited), log)
        }
    }

    /// The real command: `keel run` hands its standard input to the board's UART.
    func testKeelRunForwardsItsStandardInput() throws {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("keel-shell-\(UUID().uuidString).txt")
        addTeardownBlock { try? FileManager.default.removeItem(at: input) }
        try "echo typed into keel run\nexit 5\n".write(to: input, atomically: true, encoding: .utf8)
        let app = KeelRoot.examples.appendingPathComponent("shell")
        let outcome = try runProcess(["run", "--board", "mps2-an385", "--app", app.path, "--timeout", "60"], standardInput: input)
        XCTAssertEqual(outcome.status, 5, outcome.output + outcome.errors)
        XCTAssertTrue(outcome.output.split(separator: "\n").contains("typed into keel run"), outcome.output + outcome.errors)
    }
}
