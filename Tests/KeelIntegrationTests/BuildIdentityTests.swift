// A stale ELF is refused, never decoded into garbage: the console kept from one build, read
// with the ELF of the next build of the same application, by `keel decode`, by the console
// decoder `keel run` streams through, and by `keel top` against a target still running the
// first build. Each refusal is exit code 2 and one line naming both builds.
//
// The failure this guards against, as first seen: a log decoded with a newer build's ELF
// printed `fo1  state= talker0xf6d680f9` and exited 0.

import Foundation
import KeelKit
import XCTest

final class BuildIdentityTests: XCTestCase {
    let board = "mps2-an385"

    func testAStaleELFIsRefusedByDecodeByTheRunDecoderAndByTop() throws {
        let builder = try XCTUnwrap(TestFirmware.shared.builder)
        let runner = try XCTUnwrap(TestFirmware.shared.runner)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("keel-identity-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: base) }
        let app = base.appendingPathComponent("forever")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: KeelRoot.examples.appendingPathComponent("forever"), to: app)
        let boardValue = try BoardCatalog.board(named: board)

        // Build 1: keep its console (the raw UART bytes, as a serial port gives them) and a copy of its ELF.
        let first = try builder.build(try Manifest.load(directory: app, board: boardValue), for: boardValue)
        let oldELF = base.appendingPathComponent("old.elf")
        try FileManager.default.copyItem(at: first.elf, to: oldELF)
        let console = base.appendingPathComponent("console.txt")
        try captureConsole(runner.arguments(for: first, options: RunOptions()), seconds: 3, to: console)
        let firstIdentity = try XCTUnwrap(BuildIdentity(elf: try ELFFile(contentsOf: oldELF)))
        let kept = try String(contentsOf: console, encoding: .utf8)
        XCTAssertTrue(kept.hasPrefix("keel:boot id=\(firstIdentity)\n"), String(kept.prefix(200)))

        // Its own ELF decodes it.
        let good = try runProcess(["decode", oldELF.path, console.path], seconds: 120)
        XCTAssertEqual(good.status, 0, good.errors)
        XCTAssertTrue(good.output.contains("keel-test:work task=sensor mean="), String(good.output.prefix(400)))

        // Build 2: one more log line at the top of a task moves every literal after it.
        let source = app.appendingPathComponent("Forever.swift")
        var text = try String(contentsOf: source, encoding: .utf8)
        text = text.replacingOccurrences(of: "func sensorTask() {\n", with: "func sensorTask() {\n    Log.info(\"talker starting: fo1 state=\\(Keel.taskCount)\")\n")
        try text.write(to: source, atomically: true, encoding: .utf8)
        let second = try builder.build(try Manifest.load(directory: app, board: boardValue), for: boardValue)
        XCTAssertEqual(second.elf, first.elf, "rebuilt in place, as a person's next `keel build` does")
        let secondIdentity = try XCTUnwrap(BuildIdentity(elf: try ELFFile(contentsOf: second.elf)))
        XCTAssertNotEqual(secondIdentity, firstIdentity)
        let expected = "keel: error: the console comes from build \(firstIdentity), but \(second.elf.path) is build \(secondIdentity): "
            + "decode it with the ELF of the build that ran (was the application rebuilt since?)\n"

        // keel decode: exit 2, one line, and nothing decoded (the boot line is the first).
        let stale = try runProcess(["decode", second.elf.path, console.path], seconds: 120)
        XCTAssertEqual(stale.status, 2, stale.output + stale.errors)
        XCTAssertEqual(stale.errors, expected)
        XCTAssertEqual(stale.output, "", "no garbage before the refusal")
        // From standard input too (a serial port piped in).
        let piped = try runProcess(["decode", second.elf.path], standardInput: console, seconds: 120)
        XCTAssertEqual(piped.status, 2, piped.errors)
        XCTAssertEqual(piped.errors, expected)

        // The decoder `keel run` streams QEMU's console through refuses the same line.
        var decoder = ConsoleDecoder(elf: second.elf, symbolizer: nil)
        var refusal: KeelError? = nil
        for line in kept.split(separator: "\n") {
            do { _ = try decoder.decode(String(line)) } catch { refusal = error; break }
        }
        XCTAssertEqual(refusal?.exitCode, 2)
        XCTAssertEqual(refusal.map { "keel: error: \($0.description)\n" }, expected)

        // keel top: the target still runs build 1; the ELF of build 2 is refused, build 1's is read.
        let port = try freeTCPPort()
        var oldImage = first
        oldImage.elf = oldELF
        let running = oldImage
        let finished = DispatchSemaphore(value: 0)
        let booted = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? runner.run(running, options: RunOptions(timeoutSeconds: 20, gdbListenPort: port)) { record in
                if case .output(let line) = record, line.hasPrefix("keel-test:hwm task=sensor") { booted.signal() }
            }
            finished.signal()
        }
        XCTAssertEqual(booted.wait(timeout: .now() + 60), .success, "the first build runs")
        let refused = try runProcess(["top", "--gdb", ":\(port)", "--elf", second.elf.path], seconds: 120)
        XCTAssertEqual(refused.status, 2, refused.output + refused.errors)
        XCTAssertEqual(refused.errors, "keel: error: the target runs build \(firstIdentity), but \(second.elf.path) is build \(secondIdentity): "
            + "decode it with the ELF of the build that ran (was the application rebuilt since?)\n")
        let read = try runProcess(["top", "--gdb", ":\(port)", "--elf", oldELF.path], seconds: 120)
        XCTAssertEqual(read.status, 0, read.errors)
        XCTAssertTrue(read.output.contains("sensor"), read.output)
        endQEMU(port: port)
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success)
    }

    /// Runs QEMU with `arguments` for `seconds` and keeps what the UART printed, byte for byte.
    func captureConsole(_ arguments: [String], seconds: Double, to file: URL) throws {
        let process = Process()
        process.executableURL = try XCTUnwrap(TestFirmware.shared.runner).qemu
        process.arguments = arguments
        FileManager.default.createFile(atPath: file.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: file)
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { if process.isRunning { process.terminate() } }
        process.waitUntilExit()
    }
}
