// Entry mistakes are one line about the manifest: a misspelt entry (with the close match), an
// entry that needs arguments (with where it is declared), an application with no sources.
// Every example passes, so the check never stands in the way of a correct application.

import Foundation
@testable import KeelKit
import XCTest

final class EntryCheckTests: XCTestCase {
    let board = try! BoardCatalog.board(named: "mps2-an385")

    func testEveryExamplePasses() throws {
        let examples = try FileManager.default.contentsOfDirectory(at: KeelRoot.examples, includingPropertiesForKeys: nil)
        for example in examples where FileManager.default.fileExists(atPath: example.appendingPathComponent("keel.json").path) {
            // On a board it names (an example made for the M33 and the M55 is checked there).
            let names = try Manifest.boards(directory: example)
            let board = names.contains(board.name) ? board : try BoardCatalog.board(named: names[0])
            let application = try Manifest.load(directory: example, board: board)
            XCTAssertNoThrow(try EntryCheck.check(application), example.lastPathComponent)
        }
    }

    func application(_ source: String, entry: String) throws -> Application {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-entry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("Sensor.swift")
        try source.write(to: file, atomically: true, encoding: .utf8)
        var application = Application(name: "x", directory: directory, sources: [file], tickHertz: 1000, handlerStackBytes: 2048,
                                      tasks: [TaskSpec(name: "sensor", entry: entry, priority: 1, stackBytes: 1024, protections: [.paint])])
        application.sources = [file]
        return application
    }

    func problem(_ application: Application) -> String {
        do { try EntryCheck.check(application); return "no error" } catch { return error.description }
    }

    /// `"segment_allocator"` naming a type: one the sources declare passes (so do the kernel's
    /// own names); a misspelt one is one line about the manifest with the close match.
    func testSegmentAllocatorMustBeDeclared() throws {
        let source = """
        import Keel
        func sensorTask() {}
        struct BumpSegments: SegmentAllocator {}
        """
        var app = try application(source, entry: "sensorTask")
        app.segmentAllocator = .custom("BumpSegments")
        XCTAssertEqual(problem(app), "no error")
        app.segmentAllocator = .custom("SegmentPool")
        XCTAssertEqual(problem(app), "no error")
        app.segmentAllocator = .custom("BumpSegment")
        XCTAssertTrue(problem(app).contains("'segment_allocator' names 'BumpSegment', which no Swift source of the application declares"), problem(app))
        XCTAssertTrue(problem(app).contains("did you mean 'BumpSegments'?"), problem(app))
    }

    func testMistakesAreOneLineAboutTheManifest() throws {
        let source = """
        import Keel
        // func sensorTsk() {} is only a comment
        let text = "func sensorTsk() {}"
        func sensorTask() {
            Keel.sleep(ticks: 1)
        }
        func filter(
            rate: Int,
            gain: Int = 2
        ) {}
        func logger(level: Int = 1) {}
        """
        XCTAssertEqual(problem(try application(source, entry: "sensorTask")), "no error")
        XCTAssertEqual(problem(try application(source, entry: "logger")), "no error", "every parameter has a default")
        XCTAssertTrue(problem(try application(source, entry: "sensorTsk")).hasSuffix(
            "task 'sensor': entry 'sensorTsk' is not a function in Sensor.swift; did you mean 'sensorTask'?"))
        XCTAssertTrue(problem(try application(source, entry: "filter")).hasSuffix(
            "task 'sensor': entry 'filter' must take no arguments (a task starts with nothing to pass it), but Sensor.swift:7 declares func filter(rate: Int, gain: Int = 2)"))
        XCTAssertTrue(problem(try application(source, entry: "nothingLikeIt")).hasSuffix(
            "task 'sensor': entry 'nothingLikeIt' is not a function in Sensor.swift"))
        var empty = try application(source, entry: "sensorTask")
        empty.sources = []
        XCTAssertTrue(problem(empty).hasSuffix("entry 'sensorTask' is not a function in the application, which has no Swift sources"))
    }
}
