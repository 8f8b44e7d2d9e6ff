// Constant interrupt lines in the application's sources: a line the board does not have is
// one line naming file and line; comments, strings, computed lines and lookalike names are
// left alone; the count agrees with the kernel's table and the generated vector table.

import Foundation
@testable import KeelKit
import XCTest

final class InterruptLineCheckTests: XCTestCase {
    func testConstantLinesOutOfRangeAreFound() {
        let source = """
            import Keel
            func mainTask() {
                Keel.attachInterrupt(2) {}           // fine
                Keel.attachInterrupt(8) {}
                Keel.triggerInterrupt( 0x10 )
                Keel.attachInterrupt(-1, priority: 3) {}
                Keel.attachInterrupt(line) {}        // computed: the kernel's to refuse
                // Keel.attachInterrupt(9) in a comment
                print("attachInterrupt(9) in a string")
                myattachInterrupt(9)
                Keel.triggerInterrupt(7)
            }
            """
        XCTAssertEqual(InterruptLineCheck.problems(in: source, file: "App.swift", lines: 8), [
            .init(file: "App.swift", line: 4, call: "attachInterrupt", value: "8"),
            .init(file: "App.swift", line: 5, call: "triggerInterrupt", value: "0x10"),
            .init(file: "App.swift", line: 6, call: "attachInterrupt", value: "-1"),
        ])
        // A board with 32 lines has 8 and 0x10.
        XCTAssertEqual(InterruptLineCheck.problems(in: source, file: "App.swift", lines: 32).map(\.value), ["-1"])
    }

    func testTheBuildRefusesAConstantLineWithOneLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-irq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("Sensor.swift")
        try "import Keel\nfunc sensorTask() {\n    Keel.attachInterrupt(32) {}\n}\n".write(to: file, atomically: true, encoding: .utf8)
        let application = Application(name: "x", directory: directory, sources: [file], tickHertz: 1000, handlerStackBytes: 2048,
                                      tasks: [TaskSpec(name: "sensor", entry: "sensorTask", priority: 1, stackBytes: 1024, protections: [.paint])])
        let microbit = try BoardCatalog.board(named: "microbit")
        XCTAssertThrowsError(try InterruptLineCheck.check(application, board: microbit)) { error in
            let error = error as? KeelError
            XCTAssertEqual(error?.exitCode, 2)
            XCTAssertEqual(error?.description, "\(file.path):3: attachInterrupt(32): microbit has interrupt lines 0-31 "
                + "(its NVIC's external lines); use one of those")
        }
        // The M55 board has 128.
        XCTAssertNoThrow(try InterruptLineCheck.check(application, board: BoardCatalog.board(named: "mps3-an547")))
    }

    /// The console UART's lines are the kernel's while the console runs by interrupt: a constant
    /// `attachInterrupt` there is refused by name; raising one is not; a console kept polled
    /// ("output": 0, no input) leaves them free.
    func testTheConsolesLinesAreRefusedWhileTheConsoleUsesThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-irq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("Radio.swift")
        try "import Keel\nfunc radioTask() {\n    Keel.triggerInterrupt(2)\n    Keel.attachInterrupt(2) {}\n}\n".write(to: file, atomically: true, encoding: .utf8)
        var application = Application(name: "x", directory: directory, sources: [file], tickHertz: 1000, handlerStackBytes: 2048,
                                      tasks: [TaskSpec(name: "radio", entry: "radioTask", priority: 1, stackBytes: 1024, protections: [.paint])])
        let microbit = try BoardCatalog.board(named: "microbit")
        XCTAssertEqual(application.console.interruptLines(on: microbit), [2])
        XCTAssertThrowsError(try InterruptLineCheck.check(application, board: microbit)) { error in
            XCTAssertEqual((error as? KeelError)?.description, "\(file.path):4: attachInterrupt(2): line 2 is the console UART's on microbit, "
                + "and the console runs by interrupt there; use another line (or keel.json's \"console\": {\"output\": 0} keeps the console polled)")
        }
        // Line 2 on the M3 board is nobody's (its UART0 is lines 0 and 1).
        XCTAssertNoThrow(try InterruptLineCheck.check(application, board: BoardCatalog.board(named: "mps2-an385")))
        // The STM32's transmitter is polled under QEMU: its line is the console's only for input.
        let netduino = try BoardCatalog.board(named: "netduinoplus2")
        XCTAssertEqual(application.console.interruptLines(on: netduino), [])
        application.console.inputBytes = 64
        XCTAssertEqual(application.console.interruptLines(on: netduino), [37])
        application.console = ConsoleBufferSpec()
        application.console.outputBytes = 0
        XCTAssertNoThrow(try InterruptLineCheck.check(application, board: microbit))
    }

    /// The board's count is the vector table's IRQ entries and the handler table's words.
    func testTheCountIsTheVectorTablesAndTheHandlerTables() throws {
        for board in BoardCatalog.all {
            // Every IRQ entry is the dispatcher; one more mention declares it.
            let mentions = TaskTableGenerator.vectorTable(lines: board.interruptLines).components(separatedBy: "keelInterruptDispatch").count - 1
            XCTAssertEqual(mentions - 1, board.interruptLines, board.name)
            let application = Application(name: "x", directory: URL(fileURLWithPath: "/tmp"), sources: [], tickHertz: 1000, handlerStackBytes: 2048,
                                          tasks: [TaskSpec(name: "t", entry: "t", priority: 1, stackBytes: 1024, protections: [.paint])])
            let layout = try LayoutPlanner.plan(application, on: board)
            let script = LinkerScriptGenerator.script(for: board, layout: layout)
            XCTAssertTrue(script.contains("keel_interrupt_lines = \(board.interruptLines);"), board.name)
            XCTAssertTrue(script.contains("keel_interrupt_handlers = .; . = . + \(board.interruptLines * 4);"), board.name)
        }
    }
}
