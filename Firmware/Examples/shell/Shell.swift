// A tiny interactive shell on the console UART: the board's serial port on a real part,
// `keel run`'s standard input and output under QEMU.
//
//   keel run --board mps2-an385 --app Firmware/Examples/shell
//   help
//
// Input arrives by the UART's receive interrupt into the console input buffer (keel.json's
// "console": {"input": 64}); `ConsoleInput.readLine` waits for a whole line. Output goes
// through the transmit ring (256 bytes) drained by the UART's transmit interrupt: `flood`
// shows a task waiting for room (every line arrives), `burst` shows a handler, which cannot
// wait, having its lines dropped and counted once the ring is full.

import Keel

/// Lines the `burst` handler prints, set by the command before it raises the interrupt.
nonisolated(unsafe) var burstLines = 0
let burstLine = 4

func shellTask() {
    // A literal line, no interpolation: building a String in a handler allocates, on the
    // handler stack every interrupt shares.
    Keel.attachInterrupt(burstLine) {
        for _ in 0..<burstLines { print("burst: a line from a handler") }
    }
    print("keel shell: type 'help'")
    var exitCode: UInt32? = nil
    var line = InlineArray<80, UInt8>(repeating: 0)
    while exitCode == nil {
        withUnsafeMutableBytes(of: &line) { buffer in
            let count = try! ConsoleInput.readLine(into: buffer)
            exitCode = run(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }
    // Here, not in `run`: the shutdown report then starts from this task's small frame.
    Keel.shutdown(code: exitCode ?? 0)
}

/// One command line: a word and what follows the first space. Returns the exit code when the
/// command is `exit`. Bytes, not `String`: comparing and splitting strings would link the
/// standard library's Unicode tables (about 60 KiB).
func run(_ line: UnsafeRawBufferPointer) -> UInt32? {
    let space = line.firstIndex(of: UInt8(ascii: " ")) ?? line.count
    let command = UnsafeRawBufferPointer(rebasing: line[..<space])
    let argument = UnsafeRawBufferPointer(rebasing: line[min(space + 1, line.count)...])
    if command.isEmpty { return nil }
    if command.elementsEqual("help".utf8) {
        print("commands: help, echo TEXT, ticks, flood N (a task prints N lines), burst N (a handler prints N lines), attach LINE, wait MS (a line within MS, then exit), exit CODE")
    } else if command.elementsEqual("echo".utf8) {
        print(String(decoding: argument, as: UTF8.self))
    } else if command.elementsEqual("ticks".utf8) {
        print("ticks: \(Keel.ticks)")
    } else if command.elementsEqual("flood".utf8) {
        let lines = number(argument) ?? 0
        let droppedBefore = Keel.consoleDroppedLines
        for index in 0..<lines { print("flood line \(index + 1) of \(lines) from a task") }
        print("flood: \(lines) lines, \(Keel.consoleDroppedLines &- droppedBefore) dropped")
    } else if command.elementsEqual("burst".utf8) {
        burstLines = max(1, number(argument) ?? 1)
        let droppedBefore = Keel.consoleDroppedLines
        Keel.triggerInterrupt(burstLine)
        print("burst: \(burstLines) lines, \(Keel.consoleDroppedLines &- droppedBefore) dropped")
    } else if command.elementsEqual("attach".utf8) {
        // A line computed at run time: the kernel refuses the console UART's own lines.
        let line = number(argument) ?? 0
        Keel.attachInterrupt(line) { print("attach: the handler ran") }
        Keel.triggerInterrupt(line)
    } else if command.elementsEqual("wait".utf8) {
        // One more line within N ms, or what came of it by then; then the shell ends (the
        // test types part of a line and nothing more).
        var more = InlineArray<32, UInt8>(repeating: 0)
        let start = Keel.milliseconds
        let milliseconds = UInt32(number(argument) ?? 0)
        withUnsafeMutableBytes(of: &more) { buffer in
            do throws(TimedOut) {
                let count = try ConsoleInput.readLine(into: buffer, timeout: .milliseconds(milliseconds))
                print("wait: a line of \(count) bytes")
            } catch {
                let partial = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<ConsoleInput.lastPartialCount]), as: UTF8.self)
                print("wait: timed out after \(Keel.milliseconds &- start) of \(milliseconds) ms with '\(partial)'")
            }
        }
        return 0
    } else if command.elementsEqual("exit".utf8) {
        return UInt32(number(argument) ?? 0)
    } else {
        print("unknown command '\(String(decoding: command, as: UTF8.self))'; 'help' lists them")
    }
    return nil
}

/// A decimal number, or nil.
func number(_ text: UnsafeRawBufferPointer) -> Int? {
    var value = 0
    for byte in text {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), value < 100_000 else { return nil }
        value = value &* 10 &+ Int(byte &- UInt8(ascii: "0"))
    }
    return text.isEmpty ? nil : value
}
