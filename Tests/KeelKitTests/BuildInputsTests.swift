// What the build generates from an application: the RAM layout, the task table, the linker script.

import Foundation
@testable import KeelKit
import XCTest

final class BuildInputsTests: XCTestCase {
    let board = try! BoardCatalog.board(named: "microbit")

    func application(_ stacks: [(String, Int, Int)]) -> Application {
        Application(name: "t", directory: URL(fileURLWithPath: "/tmp"), sources: [], tickHertz: 1000, handlerStackBytes: 1024,
                    tasks: stacks.map { TaskSpec(name: $0.0, entry: $0.0, priority: $0.2, stackBytes: $0.1, protections: [.paint]) })
    }

    func testHandlerStackAtTheBottomThenTasksInManifestOrder() throws {
        let layout = try LayoutPlanner.plan(application([("a", 512, 1), ("b", 1024, 5)]), on: board)
        XCTAssertEqual(layout.handlerStack, StackPlacement(name: "handler", bottom: 0x2000_0000, bytes: 1024))
        XCTAssertEqual(layout.taskStacks.map(\.bottom), [0x2000_0400, 0x2000_0600])
        XCTAssertEqual(layout.idleStack.bottom, 0x2000_0A00)
        XCTAssertEqual(layout.dataStart, 0x2000_0C00)
        XCTAssertEqual(layout.ramEnd, 0x2000_4000)
    }

    func testStacksThatDoNotFitAreAnError() {
        XCTAssertThrowsError(try LayoutPlanner.plan(application([("a", 8192, 1), ("b", 8192, 1)]), on: board)) { error in
            XCTAssertEqual((error as? KeelError)?.exitCode, 2)
            XCTAssertTrue("\(error)".contains("stacks need 17920 bytes"), "\(error)")
        }
    }

    func testTaskTableIsSortedMostUrgentFirstAndStable() throws {
        let app = application([("low", 512, 1), ("high", 512, 9), ("low2", 512, 1), ("mid", 512, 4)])
        XCTAssertEqual(TaskTableGenerator.schedulingOrder(app.tasks), [1, 3, 0, 2])
        let layout = try LayoutPlanner.plan(app, on: board)
        let source = TaskTableGenerator.source(for: app, layout: layout, board: board)
        let names = source.split(separator: "\n").filter { $0.contains("TaskDescriptor(name:") && !$0.contains("idle") }
            .map { $0.split(separator: "\"")[1] }
        XCTAssertEqual(names, ["high", "mid", "low", "low2"])
        XCTAssertTrue(source.contains("InlineArray<5, TaskControlBlock>"), "four tasks and idle")
    }

    func testLinkerScriptNamesEveryStack() throws {
        let app = application([("sensor-1", 512, 1)])
        let layout = try LayoutPlanner.plan(app, on: board)
        let script = LinkerScriptGenerator.script(for: board, layout: layout)
        XCTAssertTrue(script.contains("keel_stack_sensor_1_bottom = 0x20000400;"), script)
        XCTAssertTrue(script.contains("keel_msp_top = 0x20000400;"), script)
        XCTAssertTrue(script.contains("RAM (rwx)   : ORIGIN = 0x20000800"), script)
    }
}
