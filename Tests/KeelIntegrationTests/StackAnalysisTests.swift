// The static stack analysis against the images it analyses and the runs that measure them.

import Foundation
import KeelKit
import XCTest

final class StackAnalysisTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = allBoards.flatMap { board in
        ["interleave", "stack-shapes", "segmented"].map { .init(app: $0, board: board) }
    }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    /// Every application the suite runs anyway (so no extra QEMU time), on every board.
    static let measuredApps = ["stack-shapes", "interleave", "high-water", "segmented"]

    /// The bound is never below the painted high-water mark of the same image; the ratio is reported.
    func testStaticBoundIsNeverBelowTheMeasuredHighWaterMark() throws {
        var ratios: [Double] = []
        var lines: [String] = []
        for app in Self.measuredApps {
            for board in allBoards {
                let result = try TestFirmware.shared.run(app, board: board)
                let report = try TestFirmware.shared.stackReport(app, board: board)
                for record in result.stacks {
                    guard let used = record.used else { continue }
                    let task = try XCTUnwrap(report.tasks.first { $0.task == record.task }, "\(app) \(board): no result for \(record.task)")
                    guard let worst = task.worstBytes else {
                        lines.append("\(app) \(board) \(record.task): measured \(used), static unbounded")
                        continue
                    }
                    XCTAssertGreaterThanOrEqual(Int(worst), used, "\(app) on \(board): \(record.task)'s bound is below what it used\n\(transcript(result))")
                    ratios.append(Double(worst) / Double(max(used, 1)))
                    lines.append("\(app) \(board) \(record.task): static \(worst) measured \(used) ratio "
                                 + String(format: "%.2f", Double(worst) / Double(max(used, 1))))
                }
            }
        }
        XCTAssertGreaterThan(ratios.count, 20)
        let sorted = ratios.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        print("static/measured, \(ratios.count) tasks, median " + String(format: "%.2f", median) + " (target ≤ 1.25)\n" + lines.joined(separator: "\n"))
    }

    /// swift_release's jump through the metadata reaches the classes' deallocating deinits
    /// only (ClassDestroyCall.swift), on Thumb-2 and Thumb-1 code alike.
    func testReleaseReachesOnlyDeallocatingDeinits() throws {
        for board in ["mps2-an385", "microbit"] {
            let image = try TestFirmware.shared.image("interleave", board: board)
            let graph = try CallGraph(elf: try ELFFile(contentsOf: image.elf))
            let release = try XCTUnwrap(graph.index(named: "swift_release"))
            XCTAssertFalse(graph.functions[release].registerJumps.isEmpty, board)
            XCTAssertTrue(graph.functions[release].registerJumps.allSatisfy(\.isClassDestroy), board)
            let destroyers = Set(graph.classDestroyers.map { graph.functions[$0].name })
            XCTAssertTrue(destroyers.contains("$es15__StringStorageCfD"), "\(board): \(destroyers)")
            XCTAssertTrue(destroyers.allSatisfy { $0.contains("CfD") }, "\(board): \(destroyers)")
            let analysis = WorstCaseStack(graph: graph)
            XCTAssertEqual(Set(analysis.callees(of: release)).intersection(graph.classDestroyers), graph.classDestroyers)
            XCTAssertFalse(analysis.callees(of: release).contains { graph.functions[$0].name.contains("posixMemalign") }, board)
        }
    }

    /// An interrupt handler reaches `DeviceInterrupts.attach` as a value, so its address is
    /// somewhere other than class metadata; the runtime's C-named vtable placeholders
    /// (`swift_deletedMethodError`, and `swift_errorInMain`, folded with a vtable method) are
    /// only there, and are not taken for handlers; nor is assembly (`__morestack`,
    /// `keel_morestack_end`). `segmented` attaches one closure; `interleave` none. Both
    /// boards: the Thumb-1 dispatcher calls its body with `bl`, the Thumb-2 one tail-calls it.
    func testOnlyFunctionsHeldAsValuesAreInterruptHandlers() throws {
        for board in ["mps2-an385", "microbit"] {
            let image = try TestFirmware.shared.image("interleave", board: board)
            let graph = try CallGraph(elf: try ELFFile(contentsOf: image.elf))
            for name in ["swift_deletedMethodError", "swift_errorInMain"] {
                let index = try XCTUnwrap(graph.index(named: name), "\(board): \(name)")
                // swift_deletedMethodError fills vtable slots; swift_errorInMain only when a
                // method shares its code (true of the one-module build, not of App + Keel).
                if name == "swift_deletedMethodError" { XCTAssertTrue(graph.addressTaken.contains(index), "\(board): \(name)") }
                XCTAssertFalse(graph.addressTakenOutsideClassMetadata.contains(index), "\(board): \(name)")
            }
            // On the micro:bit `interleave` is a split image (its tasks have T6 by default): the
            // split-stack kernel's closure for the fresh handler stack (below) is its only one.
            // The console's handler is the kernel's one, where the console runs by interrupt
            // (not by default on the micro:bit's 16 KiB: there nothing takes its address).
            let application = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent("interleave"), board: BoardCatalog.board(named: board))
            XCTAssertEqual(try TestFirmware.shared.stackReport("interleave", board: board).handlers.interruptHandlers
                .filter { !$0.contains("resetOnFreshMainStack") },
                application.console.outputBytes > 0 ? ["keel_console_interrupt"] : [], board)
            // The split-stack kernel's closure for the fresh handler stack is a C function
            // value too; it is counted (a level too many, never one too few).
            let segmented = try TestFirmware.shared.stackReport("segmented", board: board).handlers.interruptHandlers
            XCTAssertTrue(segmented.contains("@objc closure #1 in growerATask()"), "\(board): \(segmented)")
            XCTAssertFalse(segmented.contains { $0.hasPrefix("swift_") || $0.contains("morestack") }, "\(board): \(segmented)")
        }
    }

    /// The shapes of Firmware/Examples/stack-shapes, on a Thumb-2 and a Thumb-1 board.
    func testKnownShapes() throws {
        for board in ["mps2-an385", "microbit"] {
            let image = try TestFirmware.shared.image("stack-shapes", board: board)
            let report = try TestFirmware.shared.stackReport("stack-shapes", board: board)
            let elf = try ELFFile(contentsOf: image.elf)
            let frames = try elf.stackSizes()
            func task(_ name: String) throws -> TaskStackResult { try XCTUnwrap(report.tasks.first { $0.task == name }) }
            func names(_ result: TaskStackResult) -> [String] { result.path.map(\.function) }

            // A chain of known frames: exactly the sum of the compiler's frames.
            let chain = try task("chain")
            XCTAssertEqual(names(chain).filter { $0.contains("chain") && !$0.contains("keel_entry") }.count, 3, "\(board): \(names(chain))")
            var sum: UInt32 = 0
            for step in chain.path {
                let symbol = try XCTUnwrap(elf.symbol(named: step.symbol), "\(board): no symbol for \(step.function)")
                let frame = try XCTUnwrap(frames[symbol.address], "\(board): no .stack_sizes entry for \(step.function)")
                XCTAssertEqual(step.bytes, frame, "\(board): \(step.function)")
                sum += frame
            }
            XCTAssertEqual(chain.pathBytes, sum, board)
            XCTAssertEqual(chain.worstBytes, sum + StackAnalysis.exceptionFrameBytes, board)

            // A tail call is followed: tailSecond's frame is on tail's path. (Thumb-2 code makes
            // it a `b.w`; the ARMv6-M code calls with `bl`, as its `b` may not reach.)
            let graph = try CallGraph(elf: elf)
            let first = try XCTUnwrap(graph.indices { $0.contains("9tailFirst") }.first)
            if board != "microbit" { XCTAssertTrue(graph.functions[first].calls.contains { $0.isTail && graph.functions[$0.callee].name.contains("10tailSecond") },
                          "\(board): tailFirst has no tail call to tailSecond") }
            XCTAssertTrue(names(try task("tail")).contains { $0.contains("tailSecond") }, board)

            // A recursion: bounded by the manifest's depth, and reported with its cycle without it.
            let recursive = try task("recursive")
            XCTAssertNotNil(recursive.worstBytes, board)
            XCTAssertTrue(recursive.path.contains { $0.source == "recursion×12" }, "\(board): \(recursive.path)")
            let unhinted = WorstCaseStack(graph: graph)
            let countdown = try XCTUnwrap(graph.indices { $0.contains("9countdown") }.first)
            let open = unhinted.depth(of: countdown)
            XCTAssertFalse(open.isBounded, board)
            XCTAssertTrue(open.unbounded.contains { if case .recursion(let cycle) = $0 { cycle.contains { $0.contains("9countdown") } } else { false } },
                          "\(board): \(open.unbounded)")
            // Without the manifest's depth, the finding shows the calls that reach the
            // recursion and the key that bounds it, and that key bounds it.
            var application = image.application
            application.analysisHints.recursionDepth = [:]
            let withoutDepth = try StackAnalysis.analyze(elf: elf, path: image.elf.path, board: image.board, application: application,
                                                     layout: image.layout, demangler: TestFirmware.shared.builder?.toolchain.demangler)
            let point = try XCTUnwrap(try XCTUnwrap(withoutDepth.tasks.first { $0.task == "recursive" }).unboundedPoints.first, board)
            XCTAssertEqual(point.path.first, "keel_entry_recursive", "\(board): \(point.path)")
            XCTAssertEqual(point.path.last, "countdown(_:)", "\(board): \(point.path)")
            XCTAssertEqual(point.fix, #""analysis": {"recursion_depth": {"countdown(_:)": N}}, N being the most times the recursion nests"#)
            let finding = try XCTUnwrap(StackCheck.findings(withoutDepth).first { $0.task == "recursive" }, board)
            XCTAssertEqual(finding.kind, .unbounded)
            XCTAssertTrue(finding.message.contains("path: " + point.path.joined(separator: " -> ") + "; bound it in keel.json: "), finding.message)
            application.analysisHints.recursionDepth = ["countdown(_:)": 12]
            let bounded = try StackAnalysis.analyze(elf: elf, path: image.elf.path, board: image.board, application: application,
                                                    layout: image.layout, demangler: TestFirmware.shared.builder?.toolchain.demangler)
            XCTAssertEqual(bounded.tasks.first { $0.task == "recursive" }?.unboundedPoints, [], board)

            // A call through a closure: resolved to the closures whose address is taken (among
            // them; the deepest of the targets is on the path, which on the micro:bit can be a
            // kernel function whose address equals a small constant in a literal pool).
            let closure = try task("closure")
            XCTAssertNotNil(closure.worstBytes, board)
            let analysis = try StackAnalysis.depths(elf: elf, path: image.elf.path, application: image.application,
                                                    demangler: TestFirmware.shared.builder?.toolchain.demangler)
            let caller = try XCTUnwrap(analysis.functions(matching: "applyTransform(_:_:)").first, board)
            XCTAssertTrue(names(closure).contains(analysis.names[caller]), "\(board): \(names(closure))")
            XCTAssertTrue(analysis.callees(of: caller).map { analysis.names[$0] }
                .contains { $0.contains("closure #2 in variable initialization expression of transforms") }, board)

            // A libgcc helper without .stack_sizes: counted by the bytes read from its code.
            let divide = try task("divide")
            let helper = try XCTUnwrap(divide.path.first { $0.function == "__aeabi_uldivmod" }, "\(board): \(names(divide))")
            XCTAssertEqual(helper.source, "scanned")
            XCTAssertNil(frames[try XCTUnwrap(elf.symbol(named: "__aeabi_uldivmod")).address])
            XCTAssertTrue(report.helpers.contains { $0.function == "__aeabi_uldivmod" }, board)

            // "auto" gave every task its worst case plus the stated margin.
            for task in report.tasks where task.task != "idle" {
                XCTAssertEqual(task.declaredBytes, StackCheck.automaticBytes(worst: try XCTUnwrap(task.worstBytes)), "\(board) \(task.task)")
            }
        }
    }

    /// keel check fails a stack one frame too small and passes it when it is enough.
    func testCheckFailsAStackOneFrameTooSmall() throws {
        guard let builder = TestFirmware.shared.builder else { throw XCTSkip("the firmware toolchain is not installed") }
        let board = try BoardCatalog.board(named: "mps2-an385")
        let report = try TestFirmware.shared.stackReport("stack-shapes", board: board.name)
        let chain = try XCTUnwrap(report.tasks.first { $0.task == "chain" })
        let worst = Int(try XCTUnwrap(chain.worstBytes))
        let deepest = Int(try XCTUnwrap(chain.path.map(\.bytes).max()))
        /// stack-shapes with the chain task on a fixed stack of `bytes`.
        func application(chainBytes bytes: Int, _ variant: String) throws -> Application {
            var application = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent("stack-shapes"), board: board)
            application.name += "-" + variant
            let index = try XCTUnwrap(application.tasks.firstIndex { $0.name == "chain" })
            application.tasks[index].automaticStack = false
            application.tasks[index].stackBytes = bytes
            return application
        }
        func check(_ bytes: Int, _ variant: String) throws -> [StackFinding] {
            try builder.buildChecked(application(chainBytes: bytes, variant), for: board, mode: .warn).findings.filter { $0.task == "chain" }
        }
        let enough = (worst + 7) / 8 * 8
        XCTAssertEqual(try check(enough, "fits"), [])
        let short = try check(enough - deepest, "short")
        XCTAssertEqual(short.map(\.kind), [.stackTooSmall])
        XCTAssertTrue(short.first?.message.contains("chainThree") ?? false, "\(short)")
        // The same image in .error mode (cached: no rebuild) throws the same finding.
        XCTAssertThrowsError(try builder.buildChecked(application(chainBytes: enough - deepest, "short"), for: board, mode: .error)) { error in
            XCTAssertTrue("\(error)".contains("chain: stack \(enough - deepest) bytes < worst case \(worst)"), "\(error)")
        }
    }
}
