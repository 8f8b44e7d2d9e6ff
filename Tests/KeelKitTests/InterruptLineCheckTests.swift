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
        XCTAssertEqual(InterruptLineCheck.problems(in: source, file: "App.swift"), [
            .init(file: "App.swift", line: 4, call: "attachInterrupt", value: "8"),
            .init(file: "App.swift", line: 5, call: "triggerInterrupt", value: "0x10"),
            .init(file: "App.swift", line: 6, call: "attachInterrupt", value: "-1"),
        ])
    }

    func testTheBuildRefusesAConstantLineWithOneLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-irq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("Sensor.swift")
        try "import Keel\nfunc sensorTask() {\n    Keel.attachInterrupt(8) {}\n}\n".write(to: file, atomically: true, encoding: .utf8)
        let application = Application(name: "x", directory: directory, sources: [file], tickHertz: 1000, handlerStackBytes: 2048,
                                      tasks: [TaskSpec(name: "sensor", entry: "sensorTask", priority: 1, stackBytes: 1024, protections: [.paint])])
        XCTAssertThrowsError(try InterruptLineCheck.check(application)) { error in
            let error = error as? KeelError
            XCTAssertEqual(error?.exitCode, 2)
            XCTAssertEqual(error?.description, "\(file.path):3: attachInterrupt(8): Keel has interrupt lines 0-7 on every board; use one of those")
        }
    }

    /// The host's count is the kernel's handler table and the vector table's IRQ entries.
    func testTheCountIsTheKernelsAndTheVectorTables() throws {
        let kernel = try String(contentsOf: KeelRoot.firmware.appendingPathComponent("Kernel/DeviceInterrupts.swift"), encoding: .utf8)
        XCTAssertTrue(kernel.contains("static let lines = \(InterruptLineCheck.lines)"))
        XCTAssertTrue(kernel.contains("InlineArray<\(InterruptLineCheck.lines), InterruptHandler?>"))
        XCTAssertTrue(kernel.contains("Keel has lines 0-\(InterruptLineCheck.lines - 1) on every board"))
        // Every IRQ entry is the dispatcher; one more mention declares it.
        let mentions = TaskTableGenerator.vectorTable.components(separatedBy: "keelInterruptDispatch").count - 1
        XCTAssertEqual(mentions - 1, InterruptLineCheck.lines)
    }
}
