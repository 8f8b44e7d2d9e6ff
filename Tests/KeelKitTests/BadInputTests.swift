// Bad input is one short line: an image for another machine, a tick out of range, a megabyte
// name, a path that is a directory, a FIFO or a device.

import Foundation
import XCTest
@testable import KeelKit

final class BadInputTests: XCTestCase {
    let board = BoardCatalog.all[0]
    let task = #""name": "a", "entry": "work", "priority": 1, "stack": 1024"#
    static let megabyte = String(repeating: "a", count: 1 << 20)

    func parse(_ json: String) throws -> Application {
        try Manifest.parse(try JSONSerialization.jsonObject(with: Data(json.utf8)), path: "keel.json",
                           directory: URL(fileURLWithPath: "/tmp"), board: board)
    }

    /// The message `json` is refused with, checked to be one short line.
    func problem(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try parse(json)
            XCTFail("accepted", file: file, line: line)
            return ""
        } catch let error as KeelError {
            assertOneShortLine(error, file: file, line: line)
            return error.description
        } catch {
            XCTFail("not a KeelError: \(error)", file: file, line: line)
            return ""
        }
    }

    // MARK: - ELF

    func testTheTinyImageIsAnalysedEndToEnd() throws {
        var image = TinyARMImage()
        let elf = try ELFFile(bytes: image.bytes())
        let report = try StackAnalysis.analyze(elf: elf, path: "tiny.elf", board: nil, application: nil, layout: nil, demangler: nil)
        let a = try XCTUnwrap(report.tasks.first { $0.task == "a" })
        XCTAssertEqual(a.pathBytes, 8 + 16, "keel_entry_a's frame and the leaf it calls")
    }

    /// An image with debug info has `$d` symbols in its .debug_* sections; their values are
    /// offsets there, and one that falls inside .text must not turn code into data.
    func testMappingSymbolsOfOtherSectionsDoNotHideCode() throws {
        var image = TinyARMImage()
        image.foreignDataMappingSymbol = TinyARMImage.textAddress + 2   // keel_entry_a's `bl leaf`
        let elf = try ELFFile(bytes: image.bytes())
        XCTAssertTrue(elf.symbols.contains { $0.name == "$d" }, "the image has the foreign $d")
        let report = try StackAnalysis.analyze(elf: elf, path: "tiny.elf", board: nil, application: nil, layout: nil, demangler: nil)
        XCTAssertEqual(try XCTUnwrap(report.tasks.first { $0.task == "a" }).pathBytes, 8 + 16, "the call to leaf is still seen")
    }

    func testAnImageForAnotherMachineIsRefused() throws {
        for (machine, name) in [(UInt16(3), " (x86)"), (62, " (x86-64)"), (183, " (AArch64)"), (4242, "")] {
            var image = TinyARMImage()
            image.machine = machine
            XCTAssertThrowsError(try ELFFile(bytes: image.bytes())) { error in
                XCTAssertEqual(error as? ELFError, .unsupportedMachine(machine))
                XCTAssertEqual("\(error)", "e_machine is \(machine)\(name), not 40 (ARM): not an image for a Cortex-M")
            }
        }
        var wide = TinyARMImage()
        wide.elfClass = 2
        XCTAssertThrowsError(try ELFFile(bytes: wide.bytes())) { XCTAssertEqual($0 as? ELFError, .unsupportedClass(2)) }
        var bigEndian = TinyARMImage()
        bigEndian.encoding = 2
        XCTAssertThrowsError(try ELFFile(bytes: bigEndian.bytes())) { XCTAssertEqual($0 as? ELFError, .unsupportedEncoding(2)) }
    }

    // MARK: - Manifest values

    func testTickRateIsZeroOrTenToTwentyThousand() throws {
        for hertz in [0, 10, 1000, 20_000] {
            XCTAssertEqual(try parse(#"{"name": "x", "tick_hz": \#(hertz), "tasks": [{\#(task)}]}"#).tickHertz, hertz)
        }
        for value in ["-1", "1", "9", "20001", "100000", "1e300", "1.5", "true", "\"fast\"", "null"] {
            XCTAssertEqual(problem(#"{"name": "x", "tick_hz": \#(value), "tasks": [{\#(task)}]}"#),
                           "keel.json: 'tick_hz' must be 0 (no tick) or a whole number from 10 to 20000", value)
        }
    }

    func testLongNamesAreRefusedWithoutEchoingThem() {
        let long = Self.megabyte
        let cut = String(repeating: "a", count: 40) + "… (1048576 characters)"
        XCTAssertEqual(problem(#"{"name": "\#(long)", "tasks": [{\#(task)}]}"#),
                       "keel.json: 'name' must be 1-64 letters, digits, '-' or '_'")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{"name": "\#(long)", "entry": "work", "priority": 1, "stack": 1024}]}"#),
                       "keel.json: task '\(cut)': 'name' is missing or not 1-24 letters, digits, '-' or '_'")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{"name": "a", "entry": "\#(long)", "priority": 1, "stack": 1024}]}"#),
                       "keel.json: task 'a': 'entry' is missing or not a Swift function name of at most 128 characters")
        XCTAssertTrue(problem(#"{"name": "x", "\#(long)": 1, "tasks": [{\#(task)}]}"#).hasPrefix("keel.json: unknown key '\(cut)' (known: "))
        XCTAssertTrue(problem(#"{"name": "x", "tasks": [{\#(task), "\#(long)": 1}]}"#).contains("unknown key '\(cut)'"))
        // Quoted by messages that do not excerpt it themselves: cut with its quotes.
        XCTAssertTrue(problem(#"{"name": "x", "tasks": [{\#(task), "protection": {"\#(long)": ["paint"]}}]}"#).contains("… (1048578 characters)"))
        XCTAssertTrue(problem(#"{"name": "x", "tasks": [{\#(task), "protection": ["\#(long)"]}]}"#).contains("… (1048578 characters)"))
        XCTAssertTrue(problem(#"{"name": "x", "tasks": [{\#(task), "on_fault": {"restart": 1, "\#(long)": 1}}]}"#).contains("\(cut)"))
        XCTAssertTrue(problem(#"{"name": "x", "tasks": [{\#(task), "stack": {"segmented": {"initial": 1024, "max": 2048, "\#(long)": 1}}}]}"#)
            .contains("\(cut)"))
        XCTAssertTrue(problem(#"{"name": "x", "tasks": [{\#(task)}], "analysis": {"bounds": {"\#(long)": -1}}}"#)
            .contains("'analysis.bounds.\(cut)' must be"))
        XCTAssertTrue(problem(#"{"name": "x", "tasks": [{\#(task)}], "analysis": {"indirect_calls": {"\#(long)": 1}}}"#)
            .contains("'analysis.indirect_calls.\(cut)' must be"))
        // A long name made of short words is cut as a whole.
        let words = String(repeating: "a ", count: 100_000)
        XCTAssertTrue(problem(#"{"name": "x", "tasks": [{\#(task), "protection": {"\#(words)": ["paint"]}}]}"#).hasSuffix(" characters)"))

        XCTAssertThrowsError(try BoardCatalog.board(named: long)) { error in
            XCTAssertEqual("\(error)", "unknown board '\(cut)'; known boards: mps2-an385, mps2-an386, mps2-an500, mps2-an505, mps3-an547, microbit, netduinoplus2")
        }
    }

    func testLineBreaksAndControlCharactersInNamesAreEscaped() {
        XCTAssertTrue(problem(#"{"name": "x", "a\nb\u2028c\u202ed\u0000": 1, "tasks": [{\#(task)}]}"#)
            .hasPrefix(#"keel.json: unknown key 'a\nb\u{2028}c\u{202e}d\u{0}' (known: "#))
        XCTAssertTrue(problem(#"{"name": "x", "tasks": [{"name": "a\r\nb", "entry": "work", "priority": 1, "stack": 1024}]}"#)
            .hasPrefix(#"keel.json: task 'a\r\nb': 'name' is missing"#))
    }

    func testExcerpts() {
        XCTAssertEqual(KeelError.excerpt("sensor"), "sensor")
        XCTAssertEqual(KeelError.excerpt(String(repeating: "b", count: 60)), String(repeating: "b", count: 60))
        XCTAssertEqual(KeelError.excerpt(String(repeating: "b", count: 61)), String(repeating: "b", count: 40) + "… (61 characters)")
        // Counted in scalars: one grapheme of a megabyte of combining marks is cut too.
        let marks = "e" + String(repeating: "\u{301}", count: 1 << 20)
        XCTAssertEqual(KeelError.excerpt(marks).unicodeScalars.count, 40 + "… (1048577 characters)".unicodeScalars.count)
        XCTAssertEqual(KeelError.excerpt("tab\there"), #"tab\there"#)
    }

    // MARK: - Paths

    func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-bad-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }

    func testDirectoriesFIFOsAndDevicesAreNamedBeforeAnythingOpensThem() throws {
        let directory = try temporaryDirectory()
        let fifo = directory.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let started = Date()
        let cases: [(path: String, message: String)] = [
            (directory.path, "\(directory.path) is a directory, not a file"),
            (fifo, "\(fifo) is a FIFO, not a file"),
            ("/dev/null", "/dev/null is a device, not a file"),
        ]
        for (path, message) in cases {
            XCTAssertThrowsError(try FileKind.requireReadable(path, limit: 1 << 20, what: "a test file")) {
                XCTAssertEqual("\($0)", message)
            }
            XCTAssertThrowsError(try FileKind.requireWritable(path)) { XCTAssertEqual("\($0)", message) }
            XCTAssertThrowsError(try ELFFile(contentsOf: URL(fileURLWithPath: path))) { error in
                XCTAssertTrue("\(error)".hasSuffix("is \(message.components(separatedBy: " is ").last!)"), "\(error)")
            }
        }
        XCTAssertThrowsError(try FileKind.requireReadable(directory.appendingPathComponent("none").path, limit: 1, what: "x")) {
            XCTAssertEqual("\($0)", "\(directory.path)/none does not exist")
        }
        XCTAssertThrowsError(try FileKind.requireWritable("/nonexistent-keel-folder/out.elf")) {
            XCTAssertEqual("\($0)", "/nonexistent-keel-folder/out.elf cannot be written: its directory /nonexistent-keel-folder does not exist")
        }
        XCTAssertNoThrow(try FileKind.requireWritable(directory.appendingPathComponent("new.svg").path))
        XCTAssertNoThrow(try FileKind.requireWritable("/nonexistent-keel-folder/out.elf", creatingFolders: true))

        // An application whose keel.json is a directory or a FIFO; an --app that is a file.
        for kind in ["directory", "FIFO"] {
            let app = directory.appendingPathComponent("app-\(kind)")
            try FileManager.default.createDirectory(at: app, withIntermediateDirectories: true)
            let manifest = app.appendingPathComponent("keel.json")
            if kind == "directory" {
                try FileManager.default.createDirectory(at: manifest, withIntermediateDirectories: true)
            } else {
                XCTAssertEqual(mkfifo(manifest.path, 0o600), 0)
            }
            XCTAssertThrowsError(try Manifest.load(directory: app, board: board)) { error in
                XCTAssertEqual(error as? KeelError, .badPath(path: manifest.path, problem: "is a \(kind), not a file"))
                XCTAssertEqual((error as? KeelError)?.exitCode, 2)
            }
        }
        let plain = directory.appendingPathComponent("plain.json")
        try Data("{}".utf8).write(to: plain)
        XCTAssertThrowsError(try Manifest.load(directory: plain, board: board)) {
            XCTAssertEqual("\($0)", "\(plain.path) is a file, not a directory (an application is a folder with a keel.json)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "nothing blocked on the FIFOs")
    }

    func assertOneShortLine(_ error: KeelError, file: StaticString = #filePath, line: UInt = #line) {
        let text = error.description
        XCTAssertFalse(text.contains { $0.isNewline }, "one line: \(text.prefix(400))", file: file, line: line)
        XCTAssertLessThan(text.count, 400, "short: \(text.prefix(400))", file: file, line: line)
        XCTAssertEqual(error.exitCode, 2, text, file: file, line: line)
    }
}
