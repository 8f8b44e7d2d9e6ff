// Every example passes `keel check` on every board it names (its "boards", or all of them) of
// the three the suite covers in full (`allBoards`; the FPU boards run their own examples in
// FloatingPointTests, which keeps the suite under ten minutes), and is refused on a board it
// does not name. Only the stack analysis runs here, no QEMU; the
// images are the shared test images, so the ones other classes build are built once.
//
// An example that overflows on purpose says `"stack_check": "warn"`; then only the tasks that
// declare the fault (`"expect"`, and the handler stack with `"handler_expect"`) may have
// findings: every bystander must hold its worst case like any other task.

import Foundation
import KeelKit
import XCTest

final class ExampleCheckTests: XCTestCase {
    /// Every example, on every board it names, built with the check off (the analysis is kept).
    static var firmware: [TestFirmware.Request] {
        examples.flatMap { example in
            let named = ((try? Manifest.boards(directory: KeelRoot.examples.appendingPathComponent(example))) ?? allBoards)
            let boards = example.hasPrefix("bench-") ? (named.contains("microbit") ? ["microbit"] : Array(named.filter(allBoards.contains).prefix(1)))
                : named.filter((checkedOnServiceBoards.contains(example) ? serviceBoards : allBoards).contains)
            return boards.map { TestFirmware.Request(app: example, board: $0, running: false) }
        }
    }

    /// Examples checked on the services' boards only (their tests run there; the suite's ten
    /// minutes leave no room for a third image each).
    static let checkedOnServiceBoards: Set<String> = ["pools", "event-flags", "timers", "streams", "task-control"]

    // The bench's measurement images (`bench-*`) are checked on one board: the M0 where they
    // run there (BenchTests measures them on it; its 16 KiB and Thumb-1 route are the
    // tightest), else the first of the suite's boards they name (bench-latency: the M3).
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    /// Findings known and left open, by example, each with why (remove the entry once fixed).
    static let knownShortfalls: [String: String] = [
        // Made to fail: it shows every blocking call reachable from a handler at once (BuildTimeCheckTests).
        "handler-waits": "handler",
    ]

    /// The folders of Firmware/Examples that hold a manifest.
    static var examples: [String] {
        let folder = KeelRoot.examples
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0)/keel.json").path) }.sorted()
    }

    func testEveryExamplePassesItsCheckOnEveryBoardItNames() throws {
        XCTAssertGreaterThanOrEqual(Self.examples.count, 20, "the examples were found")
        for request in Self.firmware {
            let name = "\(request.app) on \(request.board)"
            do {
                let board = try BoardCatalog.board(named: request.board)
                let application = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent(request.app), board: board)
                let report = try TestFirmware.shared.stackReport(request.app, board: request.board)
                let findings = StackCheck.findings(report)
                if application.stackCheck == .error {
                    let unknown = findings.filter { Self.knownShortfalls[request.app] != owner(of: $0, in: report, onPurpose: []) }
                    XCTAssertEqual(unknown.map(\.description), [], name)
                    continue
                }
                let onPurpose = Set(application.tasks.filter { $0.expectedFault != nil }.map(\.name)
                                    + (application.expectedHandlerFault != nil ? ["handler"] : []))
                XCTAssertFalse(onPurpose.isEmpty, "\(request.app) says \"stack_check\": \"warn\" but no task declares the fault it makes")
                let bystanders = findings.filter {
                    let owner = owner(of: $0, in: report, onPurpose: onPurpose)
                    return !onPurpose.contains(owner) && Self.knownShortfalls[request.app] != owner
                }
                XCTAssertEqual(bystanders.map(\.description), [], "\(name): a bystander of the overflow fails its check")
            } catch {
                XCTFail("\(name): \(error)")
            }
        }
    }

    /// The task a finding is about. A split-stack run is named by the function whose check it
    /// follows and its path: it is an on-purpose task's when only such tasks reach any function
    /// of it (a bystander reaching one makes it the bystander's too).
    func owner(of finding: StackFinding, in report: StackAnalysisReport, onPurpose: Set<String>) -> String {
        guard finding.kind == .uncheckedRunTooLong,
              let match = finding.message.firstMatch(of: /after the check of (.+?), code without a check.*; path: (.+)$/) else { return finding.task }
        let functions = Set([String(match.1)] + match.2.components(separatedBy: " -> ")).subtracting(["exception frame"])
        let reaching = report.tasks.filter { task in
            task.path.contains { functions.contains($0.function) }
                || task.unboundedPoints.contains { !functions.isDisjoint(with: $0.path) }
        }.map(\.task)
        return !reaching.isEmpty && reaching.allSatisfy(onPurpose.contains) ? reaching[0] : finding.task
    }

    /// An example for the boards with an MPU is refused on the micro:bit by every command, before anything is built.
    func testABoardTheManifestDoesNotNameIsRefused() throws {
        let app = KeelRoot.examples.appendingPathComponent("mpu-overflow").path
        let mpuBoards = BoardCatalog.all.filter { $0.mpu != .none }.map(\.name)
        let expected = "keel: error: \(app)/keel.json: 'mpu-overflow' is made for \(mpuBoards.joined(separator: ", ")) (its \"boards\"), not microbit\n"
        for command in ["build", "check", "run", "layout"] {
            let outcome = try runProcess([command, "--board", "microbit", "--app", app], seconds: 120)
            XCTAssertEqual(outcome.status, 2, "\(command): \(outcome.output)\(outcome.errors)")
            XCTAssertEqual(outcome.errors, expected, command)
        }
        XCTAssertEqual(try Manifest.boards(directory: URL(fileURLWithPath: app)), mpuBoards)
        XCTAssertEqual(try Manifest.boards(directory: KeelRoot.examples.appendingPathComponent("demo")), BoardCatalog.names)
    }
}
