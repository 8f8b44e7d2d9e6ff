// One plan from edit to board: `run` boots the very image `build` checked (same bytes, same
// automatic sizes, which `layout` prints too); an image whose check fails does not boot and
// is not left behind; an edit to the application recompiles the application only (the
// kernel's compiled module, IR and object are untouched); `check` and `stack` after a build
// rebuild nothing.

import Foundation
import KeelKit
import XCTest

final class BuildLoopTests: XCTestCase {
    func keel(_ arguments: String...) throws -> Outcome { try runProcess(arguments) }

    func newApplication() throws -> URL {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("keel-loop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: base) }
        let created = try keel("new", "loop", "--directory", base.path)
        XCTAssertEqual(created.status, 0, created.errors)
        return base.appendingPathComponent("loop")
    }

    /// The image's bytes: compared whole, which is stronger than comparing their hashes.
    func digest(_ file: URL) throws -> Data { try Data(contentsOf: file) }

    func modified(_ file: URL) throws -> Date {
        try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date)
    }

    func testRunBootsTheImageBuildCheckedAndLayoutShowsItsSizes() throws {
        let app = try newApplication()
        let elf = app.appendingPathComponent(".build/keel/loop-mps2-an385/loop.elf")
        let build = try keel("build", "--board", "mps2-an385", "--app", app.path)
        XCTAssertEqual(build.status, 0, build.errors)
        let sized = try XCTUnwrap(build.output.split(separator: "\n").first { $0.contains("stack \"auto\": main gets") }, build.output)
        let bytes = try XCTUnwrap(sized.split(separator: " ").first { Int($0) != nil }.flatMap { Int($0) }, String(sized))
        let built = try digest(elf), builtAt = try modified(elf)
        for binary in ["loop.bin", "loop.hex"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: elf.deletingLastPathComponent().appendingPathComponent(binary).path), binary)
        }
        let run = try keel("run", "--board", "mps2-an385", "--app", app.path)
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertTrue(run.output.contains("hello from loop: round 3"), run.output)
        XCTAssertEqual(try digest(elf), built, "run booted another image than build checked")
        XCTAssertEqual(try modified(elf), builtAt, "run rebuilt the image")
        XCTAssertNotNil(run.output.split(separator: "\n").first { $0.hasPrefix("main ") && $0.contains(" \(bytes) ") }, run.output)
        let layout = try keel("layout", "--board", "mps2-an385", "--app", app.path)
        XCTAssertEqual(layout.status, 0, layout.errors)
        XCTAssertNotNil(layout.output.split(separator: "\n").first { $0.hasPrefix("main ") && $0.contains("\(bytes) (auto)") }, layout.output)
        // check and stack after the build rebuild nothing.
        for command in ["check", "stack"] {
            XCTAssertEqual(try keel(command, "--board", "mps2-an385", "--app", app.path).status, 0, command)
            XCTAssertEqual(try modified(elf), builtAt, "\(command) rebuilt the image")
        }
    }

    func testFailingCheckBlocksRunAndLeavesNoImage() throws {
        let app = try newApplication()
        let manifest = app.appendingPathComponent("keel.json")
        let text = try String(contentsOf: manifest, encoding: .utf8).replacingOccurrences(of: #""stack": "auto""#, with: #""stack": 256"#)
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        // A recursion the analysis cannot bound: the check fails (unbounded), whatever the size.
        let source = app.appendingPathComponent("Loop.swift")
        try (String(contentsOf: source, encoding: .utf8) + """

            func countdown(_ n: Int) -> Int { n == 0 ? 0 : countdown(n - 1) + 1 }
            func unused() { Log.info("\\(countdown(Int(Keel.ticks % 4)))") }
            """).write(to: source, atomically: true, encoding: .utf8)
        let mainCalls = try String(contentsOf: source, encoding: .utf8).replacingOccurrences(
            of: "Keel.shutdown(code: 0)", with: "unused()\n    Keel.shutdown(code: 0)")
        try mainCalls.write(to: source, atomically: true, encoding: .utf8)
        let run = try keel("run", "--board", "mps2-an385", "--app", app.path)
        XCTAssertEqual(run.status, 1, run.output + run.errors)
        XCTAssertTrue(run.errors.contains("the stack check failed"), run.errors)
        XCTAssertFalse(run.output.contains("hello from loop"), "it booted: \(run.output)")
        let elf = app.appendingPathComponent(".build/keel/loop-mps2-an385/loop.elf")
        XCTAssertFalse(FileManager.default.fileExists(atPath: elf.path), "a failed check left its image")
        let unchecked = try keel("run", "--board", "mps2-an385", "--app", app.path, "--no-check")
        XCTAssertEqual(unchecked.status, 0, unchecked.errors)
        XCTAssertTrue(unchecked.errors.contains("--no-check: booting without the stack check"), unchecked.errors)
        XCTAssertTrue(unchecked.output.contains("hello from loop: round 3"), unchecked.output)
    }

    /// (The suite's prefetch thread builds nothing meanwhile: the kernel cache is compared.)
    func testAnApplicationEditRecompilesTheApplicationOnly() throws {
        try TestFirmware.shared.withoutPrefetch { try applicationEditRecompilesTheApplicationOnly() }
    }

    func applicationEditRecompilesTheApplicationOnly() throws {
        let app = try newApplication()
        XCTAssertEqual(try keel("build", "--board", "microbit", "--app", app.path).status, 0)
        let kernels = KeelRoot.cache.appendingPathComponent("kernels")
        func kernelFiles() throws -> [String: Date] {
            var files: [String: Date] = [:]
            for folder in try FileManager.default.contentsOfDirectory(atPath: kernels.path) where folder.hasPrefix("microbit-") {
                for name in ["kernel.swift.ll", "kernel.o", "modules/Keel.swiftmodule"] {
                    let file = kernels.appendingPathComponent(folder).appendingPathComponent(name)
                    if FileManager.default.fileExists(atPath: file.path) { files[folder + "/" + name] = try modified(file) }
                }
            }
            return files
        }
        let before = try kernelFiles()
        let applicationIR = app.appendingPathComponent(".build/keel/loop-microbit/application.swift.ll")
        let irBefore = try modified(applicationIR)
        let source = app.appendingPathComponent("Loop.swift")
        try (String(contentsOf: source, encoding: .utf8) + "\n// an edit\n").write(to: source, atomically: true, encoding: .utf8)
        let rebuild = try keel("build", "--board", "microbit", "--app", app.path)
        XCTAssertEqual(rebuild.status, 0, rebuild.errors)
        XCTAssertFalse(rebuild.output.contains("(unchanged)"), rebuild.output)
        XCTAssertGreaterThan(try modified(applicationIR), irBefore, "the application was not recompiled")
        XCTAssertEqual(try kernelFiles(), before, "the kernel was compiled again (or another one was made)")
    }

    func testEntryMistakesAndCompileErrorsAreInTheUsersTerms() throws {
        let app = try newApplication()
        let manifest = app.appendingPathComponent("keel.json")
        let original = try String(contentsOf: manifest, encoding: .utf8)
        try original.replacingOccurrences(of: "mainTask", with: "mainTsk").write(to: manifest, atomically: true, encoding: .utf8)
        let misspelt = try keel("build", "--board", "microbit", "--app", app.path)
        XCTAssertEqual(misspelt.status, 2)
        XCTAssertEqual(misspelt.errors, "keel: error: \(manifest.path): task 'main': entry 'mainTsk' is not a function in Loop.swift; did you mean 'mainTask'?\n")
        try original.write(to: manifest, atomically: true, encoding: .utf8)
        let source = app.appendingPathComponent("Loop.swift")
        let code = try String(contentsOf: source, encoding: .utf8)
        try code.replacingOccurrences(of: "func mainTask() {", with: "func mainTask(speed: Int) {")
            .write(to: source, atomically: true, encoding: .utf8)
        let signature = try keel("build", "--board", "microbit", "--app", app.path)
        XCTAssertEqual(signature.status, 2)
        XCTAssertTrue(signature.errors.hasSuffix("must take no arguments (a task starts with nothing to pass it), but Loop.swift:6 declares func mainTask(speed: Int)\n"), signature.errors)
        try code.replacingOccurrences(of: "Keel.sleep(milliseconds: 100)", with: "Keel.sleep(milliseconds: \"100\")")
            .write(to: source, atomically: true, encoding: .utf8)
        let compile = try keel("build", "--board", "microbit", "--app", app.path)
        XCTAssertEqual(compile.status, 1)
        XCTAssertTrue(compile.errors.contains("Loop.swift:9:"), "the compiler's file:line is kept: \(compile.errors)")
    }
}
