// The manifest is read strictly: what it accepts, and the message for each kind of mistake.

import Foundation
@testable import KeelKit
import XCTest

final class ManifestTests: XCTestCase {
    let m3 = try! BoardCatalog.board(named: "mps2-an385")
    let m33 = try! BoardCatalog.board(named: "mps2-an505")
    let directory = URL(fileURLWithPath: "/tmp/app")

    func parse(_ json: String, board: Board? = nil) throws(KeelError) -> Application {
        let object = try! JSONSerialization.jsonObject(with: Data(json.utf8))
        return try Manifest.parse(object, path: "keel.json", directory: directory, board: board ?? m3)
    }

    func problem(_ json: String, board: Board? = nil) -> String {
        do {
            _ = try parse(json, board: board)
            return "no error"
        } catch {
            return error.description
        }
    }

    func testAcceptsAFullManifestWithDefaults() throws {
        let application = try parse("""
        {"name": "demo", "tasks": [
          {"name": "a", "entry": "taskA", "priority": 2, "stack": 1024, "protection": ["paint", "red-zone"], "red_zone": 32},
          {"name": "b", "entry": "taskB", "priority": 1, "stack": 512}]}
        """)
        XCTAssertEqual(application.tickHertz, 1000)
        XCTAssertEqual(application.handlerStackBytes, 2048)
        XCTAssertEqual(application.tasks.map(\.name), ["a", "b"])
        XCTAssertEqual(application.tasks[0].protections, [.paint, .redZone])
        XCTAssertEqual(application.tasks[0].redZoneBytes, 32)
        XCTAssertEqual(application.tasks[1].protections, [.paint], "painting is the default")
        XCTAssertEqual(application.tasks[1].redZoneBytes, 0)
    }

    func testPerBoardProtectionPicksTheBoardOrTheDefault() throws {
        let json = """
        {"name": "x", "tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024,
          "protection": {"default": ["sp-check"], "mps2-an505": ["limit-register"]}}]}
        """
        XCTAssertEqual(try parse(json, board: m3).tasks[0].protections, [.stackPointerCheck])
        XCTAssertEqual(try parse(json, board: m33).tasks[0].protections, [.limitRegister])
    }

    func testMistakesNameTheKey() {
        let task = #""name": "a", "entry": "a", "priority": 1, "stack": 1024"#
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task)}], "colour": 1}"#),
                       "keel.json: unknown key 'colour' (known: handler_stack, name, tasks, tick_hz)")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": []}"#), "keel.json: 'tasks' must be a non-empty array of task objects")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "priority": 300}]}"#),
                       "keel.json: task 'a': 'priority' must be a whole number from 0 to 254")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "stack": 1000.5}]}"#),
                       "keel.json: task 'a': 'stack' must be a whole number of bytes")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "stack": 100}]}"#),
                       "keel.json: task 'a': 'stack' must be at least 256 bytes and a multiple of 8")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "protection": ["mpu-magic"]}]}"#),
                       "keel.json: task 'a': unknown protection 'mpu-magic' (known: paint, limit-register, red-zone, sp-check)")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "red_zone": 32}]}"#),
                       "keel.json: task 'a': 'red_zone' is set but 'protection' has no red-zone")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "protection": ["red-zone"], "red_zone": 20}]}"#),
                       "keel.json: task 'a': 'red_zone' must be a multiple of 16 bytes (checked four words at a time)")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task)}, {\#(task)}]}"#), "keel.json: two tasks are called 'a'")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "priority": true}]}"#),
                       "keel.json: task 'a': 'priority' must be a whole number from 0 to 254")
    }

    func testTooManyTasks() {
        let tasks = (0..<32).map { #"{"name": "t\#($0)", "entry": "t", "priority": 1, "stack": 256}"# }
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [\#(tasks.joined(separator: ","))]}"#),
                       "keel.json: 32 tasks; the kernel supports at most 31")
    }
}
