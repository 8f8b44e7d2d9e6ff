// The stack analysis of split-stack images: every unchecked run fits in the slack (and is
// never below what the run painted there; the segment allocator's tree is on the handler
// stack, not in any run), the functions nosplit took the check off are
// exactly what the analysis allows, and "initial": "auto" sizes a first segment.

import Foundation
import KeelKit
import XCTest

final class SplitStackAnalysisTests: XCTestCase {
    static let slack = UInt32(SegmentedStack.slackBytes)

    /// The longest unchecked run fits, its steps add up, and it is not below the slack use
    /// the kernel measured from paint in the same image.
    func testEveryUncheckedRunFitsAndCoversTheMeasuredSlackUse() throws {
        for board in allBoards {
            let report = try TestFirmware.shared.stackReport("segmented", board: board)
            let chains = try XCTUnwrap(report.uncheckedChains, "\(board): a segmented image has split-stack checks")
            let longest = try XCTUnwrap(chains.longest, board)
            XCTAssertEqual(chains.tooLong, [], board)
            XCTAssertLessThanOrEqual(longest.bytes, Self.slack, board)
            XCTAssertEqual(longest.path.reduce(0) { $0 + $1.bytes }, longest.bytes, "\(board): \(longest.path)")
            XCTAssertGreaterThan(chains.checkedFunctions, 50, board)
            // The allocator's tree is in no run: __morestack's slow path runs on the handler
            // stack, whose analysis counts it (and the measured slack use below would exceed
            // the longest run if it still ran on a task's stack).
            XCTAssertFalse(longest.path.contains { $0.function.contains("keel_segment_grow") || $0.function.contains("SegmentPool") },
                           "\(board): \(longest.path)")
            XCTAssertGreaterThan(report.handlers.segmentSlowPathBytes, StackAnalysis.exceptionFrameBytes + 64, board)

            let result = try TestFirmware.shared.run("segmented", board: board)
            var measured: [String] = []
            for task in result.segments where task.kind == .task {
                let used = try XCTUnwrap(task["slack_peak"], "\(board): \(task.task ?? "?") has no slack_peak")
                XCTAssertLessThanOrEqual(UInt32(used), longest.bytes,
                                         "\(board): \(task.task ?? "?") used more of the slack than the analysis allows\n\(transcript(result))")
                measured.append("\(task.task ?? "?") \(used)")
            }
            XCTAssertFalse(measured.isEmpty, board)
            print("\(board): longest unchecked run \(longest.bytes) of \(Self.slack) (from \(longest.function)); measured slack use: "
                  + measured.joined(separator: ", "))
        }
    }

    /// What lost the check has no prologue in the image and a whole tree that fits; what
    /// must keep it (a recursion, a tree deeper than the slack) still has it.
    func testNosplitTakesTheCheckOffOnlyWhatFits() throws {
        for board in allBoards {
            let image = try TestFirmware.shared.image("segmented", board: board)
            let elf = try ELFFile(contentsOf: image.elf)
            let analysis = try StackAnalysis.depths(elf: elf, path: image.elf.path, application: image.application, demangler: nil)
            let graph = analysis.graph
            let moreStack = try XCTUnwrap(graph.index(named: "__morestack"))
            func checks(_ index: Int) -> Bool { graph.functions[index].calls.contains { $0.callee == moreStack } }
            func function(_ fragment: String) throws -> Int {
                try XCTUnwrap(graph.indices { $0.contains(fragment) && !$0.contains(".cold") }.first, "\(board): no \(fragment)")
            }

            XCTAssertGreaterThan(image.nosplitFunctions.count, 10, board)
            for symbol in image.nosplitFunctions {
                guard let index = graph.index(named: symbol) else { continue }   // inlined or dropped by the linker
                XCTAssertFalse(checks(index), "\(board): \(symbol) was to lose its check")
                let tree = analysis.depth(of: index)
                XCTAssertTrue(tree.isBounded, "\(board): \(symbol)")
                XCTAssertLessThanOrEqual(tree.bytes + StackAnalysis.exceptionFrameBytes, Self.slack, "\(board): \(symbol) \(tree.path)")
            }
            // The application's small leaves lost it: keep40 (the 160-byte frame's helper) and mix.
            for fragment in ["6keep40", "3mix"] {
                XCTAssertTrue(image.nosplitFunctions.contains { $0.contains(fragment) }, "\(board): \(fragment) kept its check")
                XCTAssertFalse(checks(try function(fragment)), "\(board): \(fragment)")
            }
            // A recursion keeps it, and so does a function whose rare path is deeper than the slack.
            for fragment in ["7descend", "12boundaryCall", "12rareDeepPath"] {
                XCTAssertTrue(checks(try function(fragment)), "\(board): \(fragment) lost its check")
            }
        }
    }

    /// `keel check` names an unchecked run longer than the slack, with its path.
    func testARunLongerThanTheSlackIsAFinding() throws {
        let image = try TestFirmware.shared.image("segmented", board: "mps2-an385")
        let elf = try ELFFile(contentsOf: image.elf)
        let analysis = try StackAnalysis.depths(elf: elf, path: image.elf.path, application: image.application, demangler: nil)
        let chains = try XCTUnwrap(UncheckedChains(analysis: analysis))
        let longest = try XCTUnwrap(chains.report(slackBytes: Self.slack).longest)
        var report = try TestFirmware.shared.stackReport("segmented", board: "mps2-an385")
        report.uncheckedChains = chains.report(slackBytes: longest.bytes - 1)
        XCTAssertTrue(report.uncheckedChains!.tooLong.contains(longest))
        let findings = StackCheck.findings(report).filter { $0.kind == .uncheckedRunTooLong }
        XCTAssertTrue(findings.contains { $0.message.contains(longest.function) && $0.message.contains("\(longest.bytes) bytes") }, "\(findings)")
        report.uncheckedChains = chains.report(slackBytes: longest.bytes)
        XCTAssertEqual(StackCheck.findings(report).filter { $0.kind == .uncheckedRunTooLong }, [])
    }

    /// `segmented` with `deep`'s first segment sized by the analysis (SegmentedStackTests
    /// builds and runs it beside its own images, two at a time).
    static func automaticFirst(_ application: inout Application) {
        let index = application.tasks.firstIndex { $0.name == "deep" }!
        application.tasks[index].automaticStack = true
    }

    /// `"initial": "auto"`: the first segment holds the task's path with each recursion
    /// once, an exception frame, the slack and (on the M3) the segment guard's band; the task
    /// runs to the same result.
    func testAutomaticFirstSegmentHoldsThePathAndTheSlack() throws {
        let board = "mps2-an385"
        let image = try TestFirmware.shared.image("segmented", board: board, variant: "auto-first", change: Self.automaticFirst)
        let report = try TestFirmware.shared.stackReport("segmented", board: board, variant: "auto-first")
        let deep = try XCTUnwrap(report.tasks.first { $0.task == "deep" })
        let expected = (Int(deep.pathBytes) + 36 + SegmentedStack.slackBytes + Int(SegmentedStack.guardBytes) + 7) / 8 * 8
        let spec = try XCTUnwrap(image.application.tasks.first { $0.name == "deep" })
        XCTAssertEqual(spec.segmented?.initialBytes, expected, "\(deep.path.map(\.function))")
        XCTAssertEqual(spec.stackBytes, expected)
        let index = try XCTUnwrap(image.application.tasks.firstIndex { $0.name == "deep" })
        XCTAssertGreaterThanOrEqual(Int(image.layout.taskStacks[index].bytes), expected)
        XCTAssertGreaterThan(expected, 640, "the analysis found more than the manifest's 640 bytes")

        let result = try TestFirmware.shared.run("segmented", board: board, variant: "auto-first")
        let lines = result.records.compactMap { record -> String? in if case .output(let line) = record { line } else { nil } }
        let fixed = try XCTUnwrap(lines.first { $0.hasPrefix("keel-test:deep where=fixed") }, transcript(result))
        let segmented = try XCTUnwrap(lines.first { $0.hasPrefix("keel-test:deep where=segmented") }, transcript(result))
        let checksum = { (line: String) in line.split(separator: " ").first { $0.hasPrefix("checksum=") } }
        XCTAssertEqual(checksum(fixed), checksum(segmented), transcript(result))
        let first = try XCTUnwrap(result.segments.first { $0.kind == .task && $0.task == "deep" }, transcript(result))
        XCTAssertEqual(first["initial"], Int(image.layout.taskStacks[index].bytes), "as placed\n" + transcript(result))
    }
}
