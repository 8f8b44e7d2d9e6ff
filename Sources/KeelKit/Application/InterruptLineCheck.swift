// Interrupt lines named by a constant in the application's sources, checked against the
// board's lines (`Board.interruptLines`) before anything is compiled.
//
// Why: `Keel.attachInterrupt(8)` compiles (the line is an `Int`) and used to trap only when
// it ran. A line written as an integer literal is known at build time, so the build names
// the file, the line and the lines there are. A line computed at run time is left to the
// kernel, which prints the line it refused before it stops the task
// (Firmware/Kernel/DeviceInterrupts.swift). The reading is as light as EntryCheck's:
// comments and string literals are blanked first, and only `attachInterrupt(` or
// `triggerInterrupt(` followed by a decimal or hexadecimal literal is judged.
// The console UART's lines are the kernel's while the console runs by interrupt (keel.json's
// "console"): `attachInterrupt` there would take them from it, and the console's output would
// stop for good, so a constant one is refused here too (a computed one by the kernel).

import Foundation

public enum InterruptLineCheck {
    static let calls = ["attachInterrupt", "triggerInterrupt"]

    /// One call with a constant line the board does not have.
    struct Problem: Equatable {
        var file: String
        var line: Int
        var call: String
        var value: String
        /// The line is the console UART's (not out of range).
        var consoleLine = false
    }

    /// Throws the first constant interrupt line out of range in `application`'s sources: the
    /// board's lines are the generated vector table's IRQ entries and the kernel's handler
    /// table (`keel_interrupt_handlers`), both sized from `board.interruptLines`.
    public static func check(_ application: Application, board: Board) throws(KeelError) {
        let lines = board.interruptLines
        let consoleLines = application.console.interruptLines(on: board)
        for source in application.sources {
            guard let text = try? String(contentsOf: source, encoding: .utf8) else { continue }
            if let problem = problems(in: text, file: source.lastPathComponent, lines: lines, consoleLines: consoleLines).first {
                throw .sourceInvalid(file: source.path, line: problem.line, problem: problem.consoleLine
                    ? "\(problem.call)(\(problem.value)): line \(problem.value) is the console UART's on \(board.name), "
                        + "and the console runs by interrupt there; use another line (or keel.json's \"console\": {\"output\": 0} keeps the console polled)"
                    : "\(problem.call)(\(problem.value)): \(board.name) "
                        + "has interrupt lines 0-\(lines - 1) (its NVIC's external lines); use one of those")
            }
        }
    }

    /// Every call in `text` whose line is a literal outside 0..<lines, and every
    /// `attachInterrupt` to one of `consoleLines`.
    static func problems(in text: String, file: String, lines: Int, consoleLines: Set<Int> = []) -> [Problem] {
        let code = EntryCheck.stripped(text)
        var result: [Problem] = []
        for (number, line) in code.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            for call in calls {
                var rest = line[...]
                while let found = rest.range(of: call + "(") {
                    // A whole name: not the tail of a longer identifier.
                    let before = found.lowerBound > line.startIndex ? line[line.index(before: found.lowerBound)] : " "
                    rest = line[found.upperBound...]
                    guard !(before.isLetter || before.isNumber || before == "_") else { continue }
                    let argument = rest.drop { $0 == " " }.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
                    let value = argument.hasPrefix("0x") ? Int(argument.dropFirst(2).filter { $0 != "_" }, radix: 16)
                        : Int(argument.filter { $0 != "_" })
                    guard let value else { continue }
                    if !(0..<lines).contains(value) {
                        result.append(Problem(file: file, line: number + 1, call: call, value: String(argument)))
                    } else if call == "attachInterrupt" && consoleLines.contains(value) {
                        result.append(Problem(file: file, line: number + 1, call: call, value: String(argument), consoleLine: true))
                    }
                }
            }
        }
        return result
    }
}
