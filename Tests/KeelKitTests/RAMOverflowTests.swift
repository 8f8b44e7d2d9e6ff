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
}
