// The linker's "will not fit in region 'RAM'" told as which stacks take the RAM, by how many
// bytes it is over and what to change.

import Foundation
@testable import KeelKit
import XCTest

final class RAMOverflowTests: XCTestCase {
    let board = try! BoardCatalog.board(named: "microbit")

    /// Eight tasks of 1408 bytes on the micro:bit: the planner's plan, and ld.lld's message for it.
    func testTheLinkersOverflowNamesTheStacksTheBytesAndWhatToChange() throws {
        let application = Application(
            name: "eight", directory: URL(fileURLWithPath: "/tmp"), sources: [], tickHertz: 1000, handlerStackBytes: 2048,
            tasks: (0..<8).map { TaskSpec(name: "t\($0)", entry: "work", priority: 1, stackBytes: 1408, protections: [.paint]) })
        let layout = try LayoutPlanner.plan(application, on: board)
        let linker = KeelError.buildFailed(step: "ld.lld", output: "ld.lld: error: section '.bss' will not fit in region 'RAM': overflowed by 1440 bytes")
        let explained = RAMOverflow.explained(linker, layout: layout, application: application, board: board)
        XCTAssertEqual(explained.exitCode, 2)
        let stacks = (0..<8).map { "t\($0) 1408" }.joined(separator: ", ")
        XCTAssertEqual(explained.description, "impossible layout: the image's data, bss and heap need 1440 bytes more than microbit's "
            + "16384 bytes of RAM leave them: the stacks take \(layout.stacksEnd - layout.ramStart) bytes (\(stacks), handler 2048, "
            + "idle 512, with guards and padding), leaving \(layout.dataEnd - layout.dataStart); make the stacks 1440 bytes smaller "
            + "in all (\"stack\": \"auto\" sizes a stack to its worst case), or lower \"handler_stack\", or use fewer tasks")
        // Any other failure of the link, or of another step, stays as it was.
        let other = KeelError.buildFailed(step: "ld.lld", output: "ld.lld: error: undefined symbol: foo")
        XCTAssertEqual(RAMOverflow.explained(other, layout: layout, application: application, board: board), other)
    }

    /// A memory pool larger than the RAM the stacks leave is refused by the planner, naming the pools.
    func testAPoolLargerThanTheRAMLeftIsAnImpossibleLayout() throws {
        var application = Application(
            name: "pool", directory: URL(fileURLWithPath: "/tmp"), sources: [], tickHertz: 1000, handlerStackBytes: 2048,
            tasks: [TaskSpec(name: "t", entry: "work", priority: 1, stackBytes: 1024, protections: [.paint])])
        application.objects.pools = [PoolSpec(name: "frames", blockBytes: 1024, count: 16)]
        XCTAssertThrowsError(try LayoutPlanner.plan(application, on: board)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("data at least \(2048 + 16 + 16 * 1024) (\(16 + 16 * 1024) of it the memory pools)")
                          && text.contains("16384 bytes of RAM"), text)
        }
        application.objects.pools[0].count = 4
        let layout = try LayoutPlanner.plan(application, on: board)
        XCTAssertEqual(layout.memoryPools, [MemoryPoolStorage(name: "frames", headerBytes: 16, blockBytes: 4 * 1024)])
        XCTAssertTrue(LinkerScriptGenerator.script(for: board, layout: layout).contains("keel_pool_frames = .; . = . + 16; keel_blocks_frames = .; . = . + 4096;"))
    }
}
