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

    func mpuApplication(_ tasks: [(String, Int, Set<Protection>)]) -> Application {
        Application(name: "t", directory: URL(fileURLWithPath: "/tmp"), sources: [], tickHertz: 1000, handlerStackBytes: 1024,
                    tasks: tasks.map { TaskSpec(name: $0.0, entry: $0.0, priority: 1, stackBytes: $0.1, protections: $0.2) })
    }

    /// PMSAv7: 3000 bytes get a 4 KiB region padded to six eighths (3072), not 4096; 1000
    /// bytes fill the last eighth's window; one no-access region covers both exactly.
    func testPMSAv7RegionStacksUseSubregions() throws {
        let m3 = try BoardCatalog.board(named: "mps2-an385")
        let layout = try LayoutPlanner.plan(mpuApplication([("small", 1000, [.paint, .mpuRegion]), ("big", 3000, [.paint, .mpuRegion])]), on: m3)
        XCTAssertEqual(layout.taskStacks.map(\.bottom), [0x2000_0C00, 0x2000_0000])
        XCTAssertEqual(layout.taskStacks.map(\.bytes), [1024, 3072])
        XCTAssertEqual(layout.waste.padding, 96)
        XCTAssertEqual(layout.waste.coverage, 0)
        XCTAssertEqual(layout.waste.powerOfTwoBaseline, 1120)
        XCTAssertEqual(layout.fixedRegions.first, MPURegion(number: 0, base: 0x2000_0000, size: 4096, access: .noAccess,
                                                          purpose: "T2 stacks: no access unless running"))
        // small's switch-in: no guard needed (big is below it), region 7 read-write over its 1 KiB.
        XCTAssertEqual(layout.switchRegions[0].words, [0x16, 0, 0x2000_0C17, 0x1306_0013])
        // big is the lowest stack: a 32-byte no-access guard below RAM's start in region 6.
        XCTAssertEqual(layout.switchRegions[1].regions.first?.base, 0x1FFF_FFE0)
        XCTAssertEqual(layout.switchRegions[1].regions.last?.disabledSubregions, 0b1100_0000)
    }

    func testMoreRegionsThanTheMPUHasIsAnError() throws {
        var m3 = try BoardCatalog.board(named: "mps2-an385")
        m3.mpuRegions = 3
        let app = mpuApplication([("a", 3000, [.mpuRegion]), ("b", 1000, [.mpuRegion])])
        XCTAssertThrowsError(try LayoutPlanner.plan(app, on: m3)) { error in
            XCTAssertTrue("\(error)".contains("MPU regions"), "\(error)")
            XCTAssertEqual((error as? KeelError)?.exitCode, 2)
        }
    }
}
