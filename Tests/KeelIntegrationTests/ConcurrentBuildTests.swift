// Several `keel` processes building at once into one kernel cache and one application folder
// all succeed, and every image they leave works (two `keel bench` runs sharing a kernel cache
// once linked a half-written kernel object).
//
// The cache is a fresh one (KEEL_ROOT without a Package.swift sends it to XDG_CACHE_HOME), so
// the kernel is compiled while the builds run: two processes build one application (the same
// folder, stamps and objects), a third another application with the same kernel.

import Foundation
@testable import KeelKit
import XCTest

final class ConcurrentBuildTests: XCTestCase {
    /// The lock itself, without depending on timing: while this test holds an application's
    /// build folder, a `keel build` of that application writes nothing there; once it lets
    /// go, the build finishes.
    func testABuildWaitsWhileAnotherProcessHoldsItsFolder() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("keel-lock-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: base) }
        let app = base.appendingPathComponent("interleave")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: KeelRoot.examples.appendingPathComponent("interleave"), to: app)
        // Not the example's own build folder, if a `keel build` left one in the source tree.
        try? FileManager.default.removeItem(at: app.appendingPathComponent(".build"))
        let board = try BoardCatalog.board(named: "mps2-an385")
        let application = try Manifest.load(directory: app, board: board)
        let folder = application.buildFolder.appendingPathComponent("\(application.name)-\(board.name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let generated = folder.appendingPathComponent("KeelGenerated.swift")

        let held = try FolderLock(folder)
        let finished = DispatchSemaphore(value: 0)
        let outcomes = Outcomes(count: 1)
        Thread.detachNewThread {
            outcomes.set(0, Result { try runProcess(["build", "--board", board.name, "--app", app.path], seconds: 600) })
            finished.signal()
        }
        // Unlocked, the build writes its generated table within a second or two.
        XCTAssertEqual(finished.wait(timeout: .now() + 3), .timedOut, "the build waits for the folder")
        XCTAssertFalse(FileManager.default.fileExists(atPath: generated.path), "nothing written while the folder is held")
        held.unlock()
        XCTAssertEqual(finished.wait(timeout: .now() + 600), .success)
        let build = try outcomes.all[0].get()
        XCTAssertEqual(build.status, 0, build.output + build.errors)
        XCTAssertTrue(FileManager.default.fileExists(atPath: generated.path))
    }

    func testThreeKeelProcessesBuildingAtOnceAllSucceedAndTheirImagesRun() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("keel-concurrent-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: base) }
        let root = base.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("Firmware"), withDestinationURL: KeelRoot.firmware)
        let apps = ["one", "two"].map { base.appendingPathComponent($0) }
        for app in apps { try FileManager.default.copyItem(at: KeelRoot.examples.appendingPathComponent("interleave"), to: app) }
        var isolated = ProcessInfo.processInfo.environment
        isolated["KEEL_ROOT"] = root.path
        isolated["XDG_CACHE_HOME"] = base.appendingPathComponent("cache").path
        let environment = isolated
        let board = "mps2-an385"

        let builds = [apps[0], apps[0], apps[1]]
        let outcomes = Outcomes(count: builds.count)
        DispatchQueue.concurrentPerform(iterations: builds.count) { index in
            outcomes.set(index, Result {
                try runProcess(["build", "--board", board, "--app", builds[index].path], environment: environment, seconds: 900)
            })
        }
        for (index, outcome) in outcomes.all.enumerated() {
            let result = try outcome.get()
            XCTAssertEqual(result.status, 0, "build \(index) of \(builds[index].lastPathComponent): \(result.output)\(result.errors)")
        }
        // One kernel folder, whole, and nothing half-made left beside it.
        let kernels = try FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent("cache/keel/kernels").path)
        XCTAssertEqual(kernels.filter { $0.hasPrefix("\(board)-") }.count, 1, "\(kernels)")
        XCTAssertEqual(kernels.filter { $0.hasPrefix("staging-") }, [], "\(kernels)")
        for kernel in kernels {
            let files = try FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent("cache/keel/kernels/\(kernel)").path)
            XCTAssertTrue(files.contains("kernel.o"), "\(kernel): \(files)")
            XCTAssertEqual(files.filter { $0.hasSuffix(".partial") }, [], "\(kernel): \(files)")
        }
        // Every image runs as the example does.
        for app in apps {
            let run = try runProcess(["run", "--board", board, "--app", app.path, "--timeout", "60"], environment: environment, seconds: 600)
            XCTAssertEqual(run.status, 0, "\(app.lastPathComponent): \(run.output)\(run.errors)")
            let lines = run.output.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.filter { $0.wholeMatch(of: /[HML][0-9]@[0-9]+/) != nil }, ["H0@0", "M0@0", "L0@0", "L1@1", "M1@2", "L2@2", "H1@3", "M2@4", "H2@6"],
                           "\(app.lastPathComponent): \(run.output)")
        }
    }
}

/// The outcome of each concurrent build, set from its thread.
private final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Result<Outcome, Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<Outcome, Error>) { lock.withLock { values[index] = value } }
    var all: [Result<Outcome, Error>] { lock.withLock { values.map { $0 ?? .failure(CocoaError(.featureUnsupported)) } } }
}
