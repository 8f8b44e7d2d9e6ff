// Bad input through the `keel` command line: usage mistakes, odd paths, foreign images, absurd
// values and fuzzed files all end in exit code 2 and one line on standard error, promptly.

import Foundation
import KeelKit
import XCTest

extension CommandLineTests {
    /// Runs `keel`, stopping it after `seconds` (a FIFO opened by mistake would block forever).
    func keelPromptly(_ arguments: [String], seconds: Double = 20, file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let outcome = try runProcess(arguments, seconds: seconds)
        XCTAssertFalse(outcome.hung, "keel \(arguments.joined(separator: " ").prefix(200)) hung", file: file, line: line)
        return outcome
    }

    func assertBadInput(_ arguments: [String], says message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try keelPromptly(arguments, file: file, line: line)
        assertBadInput(outcome, says: message, file: file, line: line)
        XCTAssertLessThan(outcome.errors.count, 400, outcome.errors, file: file, line: line)
        XCTAssertTrue(outcome.output.isEmpty, outcome.output, file: file, line: line)
    }

    func testBadInputUsageMistakesAreExitCode2() throws {
        let app = try application(#"{"name": "x", "tasks": [{"name": "a", "entry": "work", "priority": 1, "stack": 1024}]}"#)
        try assertBadInput(["help", "nothing"],
                           says: "keel: error: unknown command 'nothing'; commands: new, boards, build, run, decode, top, flash, debug, demo, bench, layout, stack, check, faults (see 'keel --help')")
        try assertBadInput(["help", "build", "more"], says: "keel: error: 'more' is not a command (see 'keel build --help')")
        try assertBadInput(["build"], says: "keel: error: Missing expected argument '--app <app>' (see 'keel build --help')")
        try assertBadInput(["build", "--app", app, "--bogus"], says: "keel: error: Unknown option '--bogus'")
        try assertBadInput(["stack"], says: "keel: error: give either an ELF image or --app DIR (with --board) (see 'keel stack --help')")
        try assertBadInput(["layout", "--app", app, "--json", "--ld", "-"], says: "both write to standard output")
        try assertBadInput(["nothing"], says: "keel: error: Unexpected argument 'nothing' (see 'keel --help')")
        let long = String(repeating: "q", count: 100_000)
        try assertBadInput(["help", long], says: "unknown command '\(String(repeating: "q", count: 40))… (100000 characters)'")
        try assertBadInput(["build", "--app", app, "--" + long], says: "keel: error: Unknown option '--" + String(repeating: "q", count: 37) + "… (100004 characters)")

        // Help is not a mistake.
        for arguments in [["--help"], ["help", "build"], ["build", "--help"], []] {
            let outcome = try keelPromptly(arguments)
            XCTAssertEqual(outcome.status, 0, "\(arguments): \(outcome.errors)")
            XCTAssertTrue(outcome.output.contains("USAGE: keel"), outcome.output)
        }
    }

    func testBadInputPathsAreNamed() throws {
        let app = try application(#"{"name": "x", "tasks": [{"name": "a", "entry": "work", "priority": 1, "stack": 1024}]}"#)
        let fifo = URL(fileURLWithPath: app).appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try assertBadInput(["stack", app], says: "keel: error: \(app) is a directory, not a file")
        try assertBadInput(["stack", fifo], says: "keel: error: \(fifo) is a FIFO, not a file")
        try assertBadInput(["stack", "/dev/null"], says: "keel: error: /dev/null is a device, not a file")
        try assertBadInput(["stack", app + "/none.elf"], says: "keel: error: \(app)/none.elf does not exist")
        try assertBadInput(["layout", "--app", app, "--svg", app], says: "keel: error: \(app) is a directory, not a file")
        try assertBadInput(["layout", "--app", app, "--ld", fifo], says: "keel: error: \(fifo) is a FIFO, not a file")
        try assertBadInput(["build", "--app", app, "-o", "/dev/null"], says: "keel: error: /dev/null is a device, not a file")
        try assertBadInput(["layout", "--app", app + "/App.swift"],
                           says: "keel: error: \(app)/App.swift is a file, not a directory (an application is a folder with a keel.json)")

        let manifestIsAFIFO = try application("{}")
        let manifest = manifestIsAFIFO + "/keel.json"
        try FileManager.default.removeItem(atPath: manifest)
        XCTAssertEqual(mkfifo(manifest, 0o600), 0)
        try assertBadInput(["layout", "--app", manifestIsAFIFO], says: "keel: error: \(manifest) is a FIFO, not a file")
        try FileManager.default.removeItem(atPath: manifest)
        try FileManager.default.createDirectory(atPath: manifest, withIntermediateDirectories: false)
        try assertBadInput(["layout", "--app", manifestIsAFIFO], says: "keel: error: \(manifest) is a directory, not a file")
    }

    func testBadInputImageForAnotherMachine() throws {
        var header = [UInt8](repeating: 0, count: 52)
        header.replaceSubrange(0..<7, with: [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1])
        header[16] = 2; header[18] = 62; header[20] = 1   // ET_EXEC, EM_X86_64, EV_CURRENT
        let image = URL(fileURLWithPath: try application("{}")).appendingPathComponent("x86.elf")
        try Data(header).write(to: image)
        try assertBadInput(["stack", image.path],
                           says: "keel: error: bad ELF image: e_machine is 62 (x86-64), not 40 (ARM): not an image for a Cortex-M")
    }

    func testBadInputManifestValues() throws {
        func manifest(tick: String = "1000", task: String = "a") -> String {
            #"{"name": "x", "tick_hz": \#(tick), "tasks": [{"name": "\#(task)", "entry": "work", "priority": 1, "stack": 1024}]}"#
        }
        for tick in ["100000", "-5", "5"] {
            try assertBadInput(["layout", "--app", try application(manifest(tick: tick))],
                               says: "keel.json: 'tick_hz' must be 0 (no tick) or a whole number from 10 to 20000")
        }
        let noTick = try keelPromptly(["layout", "--app", try application(manifest(tick: "0"))])
        XCTAssertEqual(noTick.status, 0, noTick.errors)
        try assertBadInput(["layout", "--app", try application(manifest(task: String(repeating: "t", count: 1 << 20)))],
                           says: "task '\(String(repeating: "t", count: 40))… (1048576 characters)': 'name' is missing or not 1-24")
        try assertBadInput(["layout", "--app", try application(manifest(task: #"a\nb"#))], says: #"task 'a\nb': 'name'"#)
        try assertBadInput(["build", "--board", String(repeating: "b", count: 100_000), "--app", try application(manifest())],
                           says: "unknown board '\(String(repeating: "b", count: 40))… (100000 characters)'")
    }

    func testBadInputFuzzedThroughTheCommandLine() throws {
        var state: UInt64 = 0x4B45_454C_00C1
        func next(_ bound: Int) -> Int {   // xorshift64: the same files on every run
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(bound))
        }
        let valid = Array(#"{"name": "x", "tick_hz": 1000, "tasks": [{"name": "a", "entry": "work", "priority": 1, "stack": 1024, "protection": ["paint"]}]}"#.utf8)
        let alphabet = Array(#"{}[]":,019-.e tfn\"#.utf8) + [0x0A, 0xFF]
        for _ in 0..<10 {
            var bytes = valid
            for _ in 0..<1 + next(3) {
                let at = next(bytes.count)
                if next(2) == 0 { bytes[at] = alphabet[next(alphabet.count)] } else { bytes.remove(at: at) }
            }
            let outcome = try keelPromptly(["layout", "--app", try application(String(decoding: bytes, as: UTF8.self))])
            if outcome.status != 0 { assertBadInput(outcome, says: "keel: error: ") }
        }
        let folder = URL(fileURLWithPath: try application("{}"))
        for round in 0..<6 {
            var bytes = (0..<next(300)).map { _ in UInt8(next(256)) }
            if round % 2 == 0 { bytes = [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1] + bytes }
            let image = folder.appendingPathComponent("random-\(round).elf")
            try Data(bytes).write(to: image)
            try assertBadInput(["stack", image.path], says: "keel: error: bad ELF image: ")
        }
    }
}
