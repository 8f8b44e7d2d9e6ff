// Shared firmware for the QEMU tests: each (application, variant, board) is built and run once
// per test process, whatever number of tests look at its output.
//
// Time: building firmware is most of the suite's time, and one build or QEMU run keeps one
// core busy. A test class warms its own images two at a time before its tests; and when the
// whole suite runs (`Scripts/test` sets KEEL_TEST_PREFETCH), one more thread builds and runs
// every class's images ahead, in the order the classes run (`catalog`), so the cores keep
// working while a class's tests run one QEMU at a time. A key is built or run by one thread
// at a time; another that asks for it meanwhile waits for that result.
// The images go to a folder of their own (`buildFolder`), never the examples' `.build`,
// which the command-line tests build into at the same time.

import Foundation
import KeelKit
import XCTest

final class TestFirmware: @unchecked Sendable {
    static let shared = TestFirmware()

    fileprivate let lock = NSLock()
    fileprivate var runs: [String: Result<RunResult, Error>] = [:]
    fileprivate var images: [String: Result<FirmwareImage, Error>] = [:]
    private var reports: [String: StackAnalysisReport] = [:]
    /// Keys being built or run now, and what waits for them.
    private var inFlight: [String: DispatchGroup] = [:]
    private var prefetching = false
    /// The prefetch threads' images in progress, and whether a test has paused them
    /// (`withoutPrefetch`): it must see the kernel cache change only through its own builds.
    private let prefetchGate = NSCondition()
    private var prefetchesActive = 0
    private var prefetchPaused = false
    private var prefetchNext = 0

    lazy var builder: FirmwareBuilder? = (try? Toolchain.locate()).map { FirmwareBuilder(toolchain: $0) }
    lazy var runner: QEMURunner? = try? QEMURunner.locate()

    /// Where the tests' images are built.
    static let buildFolder = KeelRoot.cache.appendingPathComponent("test-images")

    private init() { prefetch() }

    /// Every image the QEMU test classes warm, in the order XCTest runs the classes (by name).
    static var catalog: [Request] {
        BuildTimeCheckTests.firmware + ConsoleTests.firmware + ContainmentTests.firmware + DemoTests.firmware + ExampleCheckTests.firmware
            + FaultMatrixTests.firmware + FaultSourceTests.firmware + FlashTests.firmware + FloatingPointTests.firmware + EventFlagsTests.firmware + LogTests.firmware + MemoryPoolTests.firmware + MutexTests.firmware + OutOfMemoryTests.firmware
            + OverflowTests.firmware + SchedulingTests.firmware + SegmentedStackTests.firmware
            + ServicesTests.firmware + ShellTests.firmware + SoftwareTimerTests.firmware + StackAnalysisTests.firmware + StreamBufferTests.firmware + TaskControlTests.firmware + TimeTests.firmware + TopTests.firmware + WatchdogTests.firmware + ZeroLatencyTests.firmware
    }

    /// Starts the two threads that build and run the whole `catalog` ahead of the classes, once,
    /// when the whole suite runs (a filtered run builds only what its tests ask for). Two:
    /// with the foreground's one QEMU run or analysis at a time, one would leave a core idle.
    func prefetch() {
        guard ProcessInfo.processInfo.environment["KEEL_TEST_PREFETCH"] != nil else { return }
        let start = lock.withLock { () -> Bool in
            defer { prefetching = true }
            return !prefetching
        }
        guard start else { return }
        let requests = Self.catalog
        for _ in 0..<2 {
            Thread.detachNewThread { [self] in
                while let request = nextPrefetch(requests) {
                    fetch(request)
                    prefetchGate.withLock { prefetchesActive -= 1; prefetchGate.broadcast() }
                }
            }
        }
    }

    /// The next request of the catalog for a prefetch thread (waiting while paused), counted active.
    private func nextPrefetch(_ requests: [Request]) -> Request? {
        prefetchGate.withLock {
            while prefetchPaused { prefetchGate.wait() }
            guard prefetchNext < requests.count else { return nil }
            prefetchNext += 1
            prefetchesActive += 1
            return requests[prefetchNext - 1]
        }
    }

    /// Runs `body` while the prefetch threads build nothing (they finish their current images first).
    func withoutPrefetch<T>(_ body: () throws -> T) rethrows -> T {
        prefetchGate.withLock {
            prefetchPaused = true
            while prefetchesActive > 0 { prefetchGate.wait() }
        }
        defer { prefetchGate.withLock { prefetchPaused = false; prefetchGate.broadcast() } }
        return try body()
    }

    /// Runs `work` for `key` unless another thread is at it: then waits for that one.
    /// `done` says whether the result is in already.
    private func once(_ key: String, done: () -> Bool, _ work: () -> Void) {
        lock.lock()
        if done() { lock.unlock(); return }
        if let group = inFlight[key] {
            lock.unlock()
            group.wait()
            return
        }
        let group = DispatchGroup()
        group.enter()
        inFlight[key] = group
        lock.unlock()
        work()
        lock.withLock { inFlight[key] = nil }
        group.leave()
    }

    /// Builds an example application for a board, with an optional change to its manifest.
    func image(_ app: String, board boardName: String, variant: String? = nil,
               change: (inout Application) -> Void = { _ in }) throws -> FirmwareImage {
        let key = "\(app)/\(variant ?? "")/\(boardName)"
        once("image " + key, done: { images[key] != nil }) {
            let result = Result { () throws -> (FirmwareImage, StackAnalysisReport?) in
                guard let builder else { throw XCTSkip("the firmware toolchain is not installed (run ./Scripts/setup)") }
                let board = try BoardCatalog.board(named: boardName)
                // A variant is the test's own rewrite of the example (the fault matrix's fits the
                // micro:bit, which `mpu-overflow` as written does not name).
                var application = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent(app), board: board,
                                                    ignoringBoards: variant != nil)
                if let variant { application.name += "-" + variant }
                application.buildFolder = Self.buildFolder
                change(&application)
                // Checked (check off): "auto" stacks are sized and the analysis kept for the tests.
                let checked = try builder.buildChecked(application, for: board, mode: .off)
                return (checked.image, checked.report)
            }
            lock.withLock {
                images[key] = result.map(\.0)
                if case .success(let built) = result { reports[key] = built.1 }
            }
        }
        return try lock.withLock { images[key]! }.get()
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
        once("run " + key, done: { runs[key] != nil }) {
            let result = Result { () throws -> RunResult in
                let image = try image(app, board: board, variant: variant, change: change)
                guard let runner else { throw XCTSkip("qemu-system-arm is not installed (run ./Scripts/setup)") }
                return try runner.run(image, options: RunOptions(timeoutSeconds: 60))
            }
            lock.withLock { runs[key] = result }
        }
        return try lock.withLock { runs[key]! }.get()
    }
}

extension TestFirmware {
    /// One image (and its run, unless `running` is false) a test class will ask for.
    struct Request: @unchecked Sendable {
        var app: String
        var board: String
        var variant: String? = nil
        var running = true
        var change: (inout Application) -> Void = { _ in }
    }

    /// Builds (and runs) what `request` names; a failure is left for the test that asks to report.
    fileprivate func fetch(_ request: Request) {
        if request.running {
            _ = try? run(request.app, board: request.board, variant: request.variant, change: request.change)
        } else {
            _ = try? image(request.app, board: request.board, variant: request.variant, change: request.change)
        }
    }

    /// Builds and runs `requests` two at a time (the machine has two cores and one build or
    /// run keeps one busy), so a test class's images are ready when its tests ask for them.
    func warm(_ requests: [Request]) {
        DispatchQueue.concurrentPerform(iterations: requests.count) { index in fetch(requests[index]) }
    }
}

let allBoards = ["mps2-an385", "mps2-an505", "microbit"]

/// The boards the services' own tests (pools, event flags, timers, stream buffers, task
/// control) run on: the two ports whose service paths differ from the M3's, ARMv6-M (PRIMASK,
/// no CLZ, T6 by default) and ARMv8-M (BASEPRI, PSPLIM, hard float). The M3 runs the same
/// ARMv7-M code as the M33's BASEPRI path in the queue, mutex and demo tests; keeping these to
/// two boards keeps the suite under ten minutes on two cores.
let serviceBoards = ["mps2-an505", "microbit"]

/// A run's fault records as `keel run` shows them: decoded with the image's symbols and
/// debug info (source lines, trap reasons, backtraces).
func decodedFaults(_ result: RunResult, _ image: FirmwareImage) throws -> [FaultRecord] {
    let symbolizer = Symbolizer.forImage(try ELFFile(contentsOf: image.elf), at: image.elf, toolchain: try Toolchain.locate())
    return symbolizer.decorate(result.records).compactMap { if case .fault(let fault) = $0 { fault } else { nil } }
}

/// The console lines of a run, for failure messages.
func transcript(_ result: RunResult) -> String {
    result.records.map { record in
        switch record {
        case .output(let line): line
        case .fault(let fault): ([RunReport.describe(fault)] + RunReport.backtraceLines(fault)).joined(separator: "\n")
        case .stack(let stack): "stack \(stack.task) used \(stack.used ?? -1) of \(stack.size)"
        case .segments(let segments): "segments \(segments.kind.rawValue) \(segments.task ?? "") \(segments.values)"
        case .spared(let spared): RunReport.describe(spared)
        case .consoleLoss(let loss): RunReport.describe(loss)
        case .boot: "boot"
        case .stackWords(let words): "stack words of \(words.task): \(words.words.count)"
        case .end(let code): "end \(code)"
        case .previousBoot(let fault): "previous boot: " + RunReport.describe(fault)
        case .deadlock(let deadlock): RunReport.describe(deadlock)
        }
    }.joined(separator: "\n") + (result.qemuErrors.isEmpty ? "" : "\nqemu: \(result.qemuErrors)")
}
