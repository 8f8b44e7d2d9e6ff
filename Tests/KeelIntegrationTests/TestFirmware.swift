// Shared firmware for the QEMU tests: each (application, variant, board) is built and run once
// per test process, whatever number of tests look at its output.

import Foundation
import KeelKit
import XCTest

final class TestFirmware: @unchecked Sendable {
    static let shared = TestFirmware()

    fileprivate let lock = NSLock()
    fileprivate var runs: [String: RunResult] = [:]
    fileprivate var images: [String: FirmwareImage] = [:]
    private var reports: [String: StackAnalysisReport] = [:]

    lazy var builder: FirmwareBuilder? = (try? Toolchain.locate()).map { FirmwareBuilder(toolchain: $0) }
    lazy var runner: QEMURunner? = try? QEMURunner.locate()

    /// Builds an example application for a board, with an optional change to its manifest.
    func image(_ app: String, board boardName: String, variant: String? = nil,
               change: (inout Application) -> Void = { _ in }) throws -> FirmwareImage {
        let key = "\(app)/\(variant ?? "")/\(boardName)"
        if let image = lock.withLock({ images[key] }) { return image }
        guard let builder else { throw XCTSkip("the firmware toolchain is not installed (run ./Scripts/setup)") }
        let board = try BoardCatalog.board(named: boardName)
        var application = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent(app), board: board)
        if let variant { application.name += "-" + variant }
        change(&application)
        // Checked (check off): "auto" stacks are sized and the analysis kept for the tests.
        let checked = try builder.buildChecked(application, for: board, mode: .off)
        lock.withLock { images[key] = checked.image; reports[key] = checked.report }
        return checked.image
    }

    /// The stack analysis of the image `image(...)` built for the same key.
    func stackReport(_ app: String, board: String, variant: String? = nil) throws -> StackAnalysisReport {
        _ = try image(app, board: board, variant: variant)
        return try XCTUnwrap(lock.withLock { reports["\(app)/\(variant ?? "")/\(board)"] })
    }

    /// Builds and runs once; later calls with the same key get the same result.
    func run(_ app: String, board: String, variant: String? = nil,
             change: (inout Application) -> Void = { _ in }) throws -> RunResult {
        let key = "\(app)/\(variant ?? "")/\(board)"
        if let result = lock.withLock({ runs[key] }) { return result }
        let image = try image(app, board: board, variant: variant, change: change)
        guard let runner else { throw XCTSkip("qemu-system-arm is not installed (run ./Scripts/setup)") }
        let result = try runner.run(image, options: RunOptions(timeoutSeconds: 60))
        lock.withLock { runs[key] = result }
        return result
    }
}

extension TestFirmware {
    /// One image (and its run) a test class will ask for.
    struct Request: @unchecked Sendable {
        var app: String
        var board: String
        var variant: String? = nil
        var change: (inout Application) -> Void = { _ in }
    }

    /// Builds and runs `requests` two at a time (the machine has two cores and one build or
    /// run keeps one busy), so a test class's images are ready when its tests ask for them.
    /// Keys must be distinct; a failure is left for the test that asks to report.
    func warm(_ requests: [Request], running: Bool = true) {
        let pending = requests.filter { request in
            let key = "\(request.app)/\(request.variant ?? "")/\(request.board)"
            return lock.withLock { running ? runs[key] == nil : images[key] == nil }
        }
        DispatchQueue.concurrentPerform(iterations: pending.count) { index in
            let request = pending[index]
            if running {
                _ = try? self.run(request.app, board: request.board, variant: request.variant, change: request.change)
            } else {
                _ = try? self.image(request.app, board: request.board, variant: request.variant, change: request.change)
            }
        }
    }
}

let allBoards = ["mps2-an385", "mps2-an505", "microbit"]

/// The console lines of a run, for failure messages.
func transcript(_ result: RunResult) -> String {
    result.records.map { record in
        switch record {
        case .output(let line): line
        case .fault(let fault): RunReport.describe(fault)
        case .stack(let stack): "stack \(stack.task) used \(stack.used ?? -1) of \(stack.size)"
        case .segments(let segments): "segments \(segments.kind.rawValue) \(segments.task ?? "") \(segments.values)"
        case .boot: "boot"
        case .end(let code): "end \(code)"
        case .previousBoot(let fault): "previous boot: " + RunReport.describe(fault)
        }
    }.joined(separator: "\n") + (result.qemuErrors.isEmpty ? "" : "\nqemu: \(result.qemuErrors)")
}
