// Boots every board and checks that tasks interleave exactly as priorities and sleeps imply.

import KeelKit
import XCTest

final class SchedulingTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = allBoards.flatMap { board in
        ["interleave", "high-water"].map { .init(app: $0, board: board) }
    }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testThreeTasksInterleaveByPriorityAndSleepOnEveryBoard() throws {
        let expected = ["H0@0", "M0@0", "L0@0", "L1@1", "M1@2", "L2@2", "H1@3", "M2@4", "H2@6"]
        for board in allBoards {
            let result = try TestFirmware.shared.run("interleave", board: board)
            XCTAssertEqual(result.exitCode, 0, "\(board):\n\(transcript(result))")
            XCTAssertEqual(result.output, expected, "\(board):\n\(transcript(result))")
            XCTAssertEqual(result.boots, 1, board)
            XCTAssertEqual(Set(result.stacks.map(\.state)), ["exited"], board)
        }
    }

    /// Painting: a task that fills N bytes gets a mark of at least N and at most N + 256
    /// (the frames of its entry, of the filling function and one exception frame).
    func testHighWaterMarkCoversAFilledBufferOnEveryBoard() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("high-water", board: board)
            let line = try XCTUnwrap(result.output.first { $0.hasPrefix("keel-test:buffer=") }, transcript(result))
            let fields = Dictionary(uniqueKeysWithValues: line.dropFirst("keel-test:".count).split(separator: " ").map {
                let pair = $0.split(separator: "=")
                return (String(pair[0]), Int(pair[1]) ?? -1)
            })
            let buffer = try XCTUnwrap(fields["buffer"]), mark = try XCTUnwrap(fields["hwm"])
            XCTAssertGreaterThanOrEqual(mark, buffer, "\(board): \(line)")
            XCTAssertLessThanOrEqual(mark, buffer + 256, "\(board): \(line)")
            // The shutdown record reads the same paint (after the task's printing, so higher).
            let record = try XCTUnwrap(result.stacks.first { $0.task == "filler" })
            XCTAssertGreaterThanOrEqual(record.used ?? 0, mark, board)
        }
    }
}

final class ImageTests: XCTestCase {
    /// The stacks the layout planned are the ones the linked image names.
    func testLinkedStackSymbolsMatchTheLayout() throws {
        for board in allBoards {
            let image = try TestFirmware.shared.image("interleave", board: board)
            let elf = try ELFFile(contentsOf: image.elf)
            for (task, stack) in zip(image.application.tasks, image.layout.taskStacks) {
                XCTAssertEqual(elf.address(ofSymbol: "keel_stack_\(task.name)_bottom"), stack.bottom, "\(board) \(task.name)")
                XCTAssertEqual(elf.address(ofSymbol: "keel_stack_\(task.name)_top"), stack.top, "\(board) \(task.name)")
            }
            XCTAssertEqual(elf.address(ofSymbol: "keel_msp_top"), image.layout.handlerStack.top)
            // .data and .bss start after the stacks.
            let bss = try XCTUnwrap(elf.section(named: ".bss"))
            XCTAssertGreaterThanOrEqual(bss.address, image.layout.dataStart)
            XCTAssertFalse(try elf.stackSizes().isEmpty, "the IR route leaves frame sizes in the image")
        }
    }

    /// With MPU stacks: guards, the handler stack and the reset record are where the planner
    /// put them, nothing the linker placed lands in a guard, and the text `keel layout --ld`
    /// prints is the script this image was linked with.
    func testLinkedMPUImageMatchesThePlan() throws {
        for board in ["mps2-an385", "mps2-an505"] {
            let image = try MPUOverflowTests.image(.t3, on: board)
            let elf = try ELFFile(contentsOf: image.elf)
            for stack in image.layout.taskStacks {
                XCTAssertEqual(elf.address(ofSymbol: "keel_stack_\(stack.name)_bottom"), stack.bottom, "\(board) \(stack.name)")
                XCTAssertEqual(elf.address(ofSymbol: "keel_stack_\(stack.name)_top"), stack.top, "\(board) \(stack.name)")
                XCTAssertEqual(elf.address(ofSymbol: "keel_stack_\(stack.name)_guard"), stack.guardBytes > 0 ? stack.guardBottom : nil)
            }
            XCTAssertEqual(elf.address(ofSymbol: "keel_msp_bottom"), image.layout.handlerStack.bottom)
            XCTAssertEqual(elf.address(ofSymbol: "keel_reset_record"), image.layout.resetRecord)
            for section in elf.sections where section.flags.contains(.alloc) && section.size > 0 && section.name != ".stacks" {
                let range = UInt64(section.address)..<UInt64(section.address) + UInt64(section.size)
                for stack in image.layout.allStacks {
                    XCTAssertFalse(range.overlaps(UInt64(stack.guardBottom)..<UInt64(stack.top)), "\(section.name) overlaps \(stack.name)")
                }
                XCTAssertFalse(range.contains(UInt64(image.layout.resetRecord)), "\(section.name) covers the reset record")
            }
            let linked = try String(contentsOf: image.elf.deletingLastPathComponent().appendingPathComponent("link.ld"), encoding: .utf8)
            // The script that linked the image, its build ID included (the one the image holds).
            let identity = try XCTUnwrap(BuildIdentity(elf: elf), "\(board): the image has a build ID")
            XCTAssertEqual(linked, LinkerScriptGenerator.script(for: image.board, layout: image.layout, buildIdentity: identity.value))
        }
    }
}
