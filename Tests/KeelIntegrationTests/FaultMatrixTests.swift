// The fault matrix on one board per architecture: every claimed site caught, nothing written
// outside under T1 and T2, no bystander blamed, no lockup; a handler overflow on the M0 resets
// with a record; a frame that jumps a small guard is that task's overflow.

import Foundation
import KeelKit
import XCTest

final class FaultMatrixTests: XCTestCase {
    /// Every image of the matrix (MPUOverflowTests asks for the same ones), two at a time.
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    static var firmware: [TestFirmware.Request] {
        var requests: [TestFirmware.Request] = []
        for name in allBoards {
            guard let board = try? BoardCatalog.board(named: name) else { continue }
            for technique in FaultMatrix.techniques(on: board) {
                requests.append(.init(app: "mpu-overflow", board: name, variant: technique.rawValue, change: FaultMatrix.variant(technique, board: board)))
            }
            requests.append(.init(app: "segmented", board: name))
        }
        requests.append(.init(app: "mpu-overflow", board: "mps2-an505", variant: "small-guard", change: smallGuard))
        return requests
    }

    /// Every scenario task behind a 32-byte guard (the checker and the bystander as they are).
    static func smallGuard(_ application: inout Application) {
        application.tasks = application.tasks.map { task in
            task.name == "checker" || task.name == "floor" ? task : task.with(protections: [.paint, .mpuGuard], guardBytes: 32)
        }
    }

    /// What `keel faults --board B` computes, from the same shared builds MPUOverflowTests uses.
    func matrix(_ name: String) throws -> (cells: [FaultCell], summary: FaultMatrixSummary) {
        let board = try BoardCatalog.board(named: name)
        let started = Date()
        var cells: [FaultCell] = []
        for technique in FaultMatrix.techniques(on: board) {
            let result = try TestFirmware.shared.run("mpu-overflow", board: name, variant: technique.rawValue,
                                                     change: FaultMatrix.variant(technique, board: board))
            cells += FaultMatrix.cells(result, board: board, technique: technique)
        }
        cells += FaultMatrix.segmentedCells(try TestFirmware.shared.run("segmented", board: name), board: name)
        return (cells, FaultMatrix.summarize(cells, board: name, seconds: Date().timeIntervalSince(started)))
    }

    func assertTotals(_ board: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (cells, summary) = try matrix(board)
        let log = cells.map { "\($0.technique) \($0.site): caught \($0.caught) by \($0.caughtBy) outside \($0.bytesOutside ?? -1) "
            + "stopped \($0.bystandersStopped) false victims \($0.falseVictims) blamed \($0.bystandersBlamed) kernel \($0.kernel)" }.joined(separator: "\n")
        print("keel faults \(board): detected \(summary.detected)/\(summary.claimed), T1/T2/T6 outside \(summary.bytesOutsideUnderStoppingTechniques), "
              + "blamed \(summary.bystandersBlamed), lockups \(summary.lockups), \(Int(summary.seconds)) s")
        XCTAssertGreaterThan(summary.claimed, 0, log, file: file, line: line)
        XCTAssertEqual(summary.detected, summary.claimed, "every claimed site is caught; \(log)", file: file, line: line)
        XCTAssertEqual(summary.bytesOutsideUnderStoppingTechniques, 0, log, file: file, line: line)
        XCTAssertEqual(summary.bystandersBlamed, 0, log, file: file, line: line)
        // Evidence-only containment: no task stopped whose stack the checker read back unchanged,
        // and every record names the task that ran.
        XCTAssertEqual(summary.falseVictims, 0, log, file: file, line: line)
        XCTAssertEqual(summary.culpritsWrong, 0, log, file: file, line: line)
        // A write the MPU or the limit register refused wrote nothing: no bystander stopped.
        for cell in cells where ["limit-register", "mpu-region", "prologue-check"].contains(cell.technique) && cell.claimed {
            XCTAssertEqual(cell.bystandersStopped, [], "\(cell.technique) \(cell.site): \(log)", file: file, line: line)
        }
        XCTAssertEqual(summary.lockups, 0, log, file: file, line: line)
        XCTAssertEqual(cells.filter { $0.technique == "segmented" }.map(\.overflows), [2, 1], "runaway: restart, kill; hog: kill; \(log)",
                       file: file, line: line)
        // The handler's overflow resets with a record the next boot prints, on every board.
        for cell in cells where cell.site == "interrupt handler" {
            XCTAssertEqual(cell.kernel, "reset with record", "\(cell.technique); \(log)", file: file, line: line)
            XCTAssertTrue(cell.caught, log, file: file, line: line)
        }
        // After-the-fact techniques: an overflow that wrote below `relapse` wrote into `floor`,
        // which was then stopped with the true cause, not blamed.
        for cell in cells where cell.site.hasPrefix("restart") && (cell.technique == "red-zone" || cell.technique == "sp-check") {
            XCTAssertEqual(cell.bystandersStopped, (cell.bytesOutside ?? 0) > 0 ? ["floor"] : [], log, file: file, line: line)
            XCTAssertEqual(cell.overflows, 11, "ten restarts, then killed; \(log)", file: file, line: line)
        }
    }

    /// The FP sites on an FPU board, under every technique the board has: each caught by that
    /// technique; under T1, T2 and T6 nothing written outside the stack; the lazy site behind a
    /// 32-byte guard is reported as a jumped guard, and what the frame wrote below it is counted.
    func assertFloatingPointSites(_ name: String, techniques: [Protection]? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let board = try BoardCatalog.board(named: name)
        for technique in techniques ?? FaultMatrix.techniques(on: board) {
            let result = try TestFirmware.shared.run("mpu-overflow", board: name, variant: technique.rawValue,
                                                     change: FaultMatrix.variant(technique, board: board))
            let cells = FaultMatrix.cells(result, board: board, technique: technique)
            for (task, site) in FaultMatrix.floatingPointSites {
                let cell = try XCTUnwrap(cells.first { $0.site == site }, "\(name) \(technique.rawValue) \(task)", file: file, line: line)
                let shown = "\(name) \(technique.rawValue) \(task): \(transcript(result))"
                XCTAssertTrue(cell.claimed && cell.caught, shown, file: file, line: line)
                XCTAssertEqual(cell.caughtBy, technique.rawValue, shown, file: file, line: line)
                XCTAssertEqual(cell.blamed, [task], shown, file: file, line: line)
                XCTAssertEqual(cell.bystandersBlamed + cell.falseVictims, [], shown, file: file, line: line)
                if [.limitRegister, .mpuRegion, .prologueCheck].contains(technique) {
                    XCTAssertEqual(cell.bytesOutside, 0, shown, file: file, line: line)
                }
            }
            if technique == .prologueCheck {
                // The slack must hold an extended frame under code an FP task runs, a basic one elsewhere.
                let image = try TestFirmware.shared.image("mpu-overflow", board: name, variant: technique.rawValue,
                                                          change: FaultMatrix.variant(technique, board: board))
                let analysis = try StackAnalysis.depths(elf: try ELFFile(contentsOf: image.elf), path: image.elf.path, application: nil, demangler: nil)
                let chains = try XCTUnwrap(UncheckedChains(analysis: analysis), file: file, line: line)
                func lastFrame(_ function: String) throws -> UInt32? {
                    let index = try XCTUnwrap(analysis.graph.functions.firstIndex { $0.name.contains(function) }, function, file: file, line: line)
                    return chains.chain(from: index).path.last?.bytes
                }
                XCTAssertEqual(try lastFrame("fillUntilNearlyFull"), FloatingPointUse.extendedFrameBytes, "fpframe runs it", file: file, line: line)
                XCTAssertEqual(try lastFrame("7recurse"), StackAnalysis.exceptionFrameBytes, "only integer tasks run it", file: file, line: line)
            }
            if technique == .mpuGuard {
                let fault = try XCTUnwrap(result.faults.first { $0.task == "fplazy" }, transcript(result), file: file, line: line)
                XCTAssertGreaterThan(fault.jumped, 0, "the integer words landed below the 32-byte guard: \(RunReport.describe(fault))", file: file, line: line)
                XCTAssertTrue(fault.cfsr & 0x20 != 0, "MLSPERR: the lazy FP state hit the guard: \(RunReport.describe(fault))", file: file, line: line)
            }
        }
    }

    /// On the M33, whose matrix has every technique (PMSAv7's FP sites: `keel faults --board
    /// mps2-an386`, and the same lazy site on its own in FloatingPointTests' fp-lazy).
    func testFloatingPointSitesOnTheM33() throws { try assertFloatingPointSites("mps2-an505") }

    func testMatrixOnTheM0() throws { try assertTotals("microbit") }
    func testMatrixOnTheM3() throws { try assertTotals("mps2-an385") }
    func testMatrixOnTheM33() throws { try assertTotals("mps2-an505") }

    /// T6 on every board, with no hardware: deep recursion (with and without a switch at the
    /// edge, ten restarts), a 1280-byte frame filled by a loop, and the tick's frame pushed at
    /// the edge are each refused by the prologue, named prologue-check, with 0 bytes changed
    /// outside the task's stack (the checker copies every other stack and compares it byte by
    /// byte); the handler stack's overflow resets with a record. And an application whose tasks
    /// have T6 by default (queues on the micro:bit) passes its static check with the slack.
    func testPrologueCheckStopsEveryCallBeforeItWritesBelowTheStack() throws {
        for name in allBoards {
            let board = try BoardCatalog.board(named: name)
            let result = try TestFirmware.shared.run("mpu-overflow", board: name, variant: Protection.prologueCheck.rawValue,
                                                     change: FaultMatrix.variant(.prologueCheck, board: board))
            let cells = FaultMatrix.cells(result, board: board, technique: .prologueCheck)
            for task in ["relapse", "deep", "wide", "preempted", "switching"] {
                let site = try XCTUnwrap(FaultMatrix.sites.first { $0.task == task }?.site)
                let cell = try XCTUnwrap(cells.first { $0.site == site }, "\(name) \(task)")
                XCTAssertTrue(cell.caught, "\(name) \(task): \(transcript(result))")
                XCTAssertEqual(cell.caughtBy, "prologue-check", "\(name) \(task)")
                XCTAssertEqual(cell.bytesOutside, 0, "\(name) \(task): the refused call wrote nothing outside the stack")
                XCTAssertEqual(cell.bystandersStopped, [], "\(name) \(task)")
            }
            XCTAssertEqual(cells.first { $0.site.hasPrefix("restart") }?.overflows, 11, "\(name): ten restarts, then killed")
            let line = try XCTUnwrap(result.faults.first { $0.task == "wide" }.map(RunReport.describe), name)
            XCTAssertTrue(line.contains("caught by T6 prologue check, before the frame was written") && line.contains("prologue limit"), line)
        }
        let report = try TestFirmware.shared.stackReport("queues", board: "microbit")
        for task in report.tasks where task.task != "idle" {
            XCTAssertTrue(task.protections.contains("prologue-check"), "\(task.task): \(task.protections)")
            XCTAssertTrue(task.hasPrologueCheck)
        }
        XCTAssertEqual(StackCheck.findings(report).map(\.description), [])
    }

    /// A 1280-byte frame and a 32-byte guard on the M33: the frame jumps the guard; the fault is
    /// reported as that task's overflow, by how many bytes it jumped and what it hit.
    func testJumpedGuardIsTheTasksOverflow() throws {
        let result = try TestFirmware.shared.run("mpu-overflow", board: "mps2-an505", variant: "small-guard", change: Self.smallGuard)
        let fault = try XCTUnwrap(result.faults.first { $0.task == "wide" }, transcript(result))
        XCTAssertEqual(fault.kind, "stack-overflow", transcript(result))
        XCTAssertGreaterThan(fault.jumped, 0, transcript(result))
        XCTAssertTrue(RunReport.describe(fault).contains("jumped its MPU guard by \(fault.jumped) bytes"), RunReport.describe(fault))
        XCTAssertFalse(result.faults.contains { $0.task != "wide" && !$0.isVictim && $0.cause == "wide" }, transcript(result))
    }
}
