// Every example passes `keel check` on every board it names (its "boards", or all three), and
// is refused on a board it does not name. Only the stack analysis runs here, no QEMU; the
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
            ((try? Manifest.boards(directory: KeelRoot.examples.appendingPathComponent(example))) ?? allBoards)
                .map { TestFirmware.Request(app: example, board: $0, running: false) }
        }
    }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    /// The folders of Firmware/Examples that hold a manifest.
    static var examples: [String] {
        let folder = KeelRoot.examples
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0)/keel.json").path) }.sorted()
    }

    func testEveryExamplePassesItsCheckOnEveryBoardItNames() throws {
        XCTAssertGreaterThanOrEqual(Self.examples.count, 20, "the examples were found")
        for request in Self.firmware {
            let board = try BoardCatalog.board(named: request.board)
            let application = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent(request.app), board: board)
            let findings = StackCheck.findings(try TestFirmware.shared.stackReport(request.app, board: request.board))
            let onPurpose = Set(application.tasks.filter { $0.expectedFault != nil }.map(\.name)
                                + (application.expectedHandlerFault != nil ? ["handler"] : []))
            if application.stackCheck == .error {
                XCTAssertEqual(findings.map(\.description), [], "\(request.app) on \(request.board)")
            } else {
                XCTAssertFalse(onPurpose.isEmpty, "\(request.app) says \"stack_check\": \"warn\" but no task declares the fault it makes")
                let bystanders = findings.filter { !onPurpose.contains($0.task) }
                XCTAssertEqual(bystanders.map(\.description), [], "\(request.app) on \(request.board): a bystander of the overflow fails its check")
            }
        }
    }

    /// An example for the MPS2 boards is refused on the micro:bit by every command, before anything is built.
    func testABoardTheManifestDoesNotNameIsRefused() throws {
        let app = KeelRoot.examples.appendingPathComponent("mpu-overflow").path
        let expected = "keel: error: \(app)/keel.json: 'mpu-overflow' is made for mps2-an385, mps2-an505 (its \"boards\"), not microbit\n"
        for command in ["build", "check", "run", "layout"] {
            let outcome = try runProcess([command, "--board", "microbit", "--app", app], seconds: 120)
            XCTAssertEqual(outcome.status, 2, "\(command): \(outcome.output)\(outcome.errors)")
            XCTAssertEqual(outcome.errors, expected, command)
        }
        XCTAssertEqual(try Manifest.boards(directory: URL(fileURLWithPath: app)), ["mps2-an385", "mps2-an505"])
        XCTAssertEqual(try Manifest.boards(directory: KeelRoot.examples.appendingPathComponent("demo")), allBoards)
    }
}
