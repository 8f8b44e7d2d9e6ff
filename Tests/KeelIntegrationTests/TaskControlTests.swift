// Task control on every board (Firmware/Examples/task-control): suspend and resume from a
// task and from a handler, a suspended waiter not woken by a give, a wait's deadline kept
// across a suspension, a task suspending itself, status reads, priority changes (a raised
// waiter woken first, inheritance following a waiter's new priority, a raised task running
// before the call returns), and the final table.

import KeelKit
import XCTest

final class TaskControlTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = serviceBoards.map { .init(app: "task-control", board: $0) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testSuspendResumeAndStatus() throws {
        for board in serviceBoards {
            let result = try TestFirmware.shared.run("task-control", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.faults.isEmpty, log)
            XCTAssertEqual(result.output.filter { $0.hasPrefix("control: ") }, [
                "control: worker waiting, spinner ready, controller ready",
                "control: spinner suspended, counted 0 in 5 ticks",
                "control: spinner ready again, counting true",
                "control: worker suspended with go given, count 1",
                "control: worker took go at +0 after resume, count 0",
                "control: a wait suspended and resumed timed out after 20 of 20",
                "control: worker suspended by itself",
                "control: a handler resumed it: ran at +0, step 3, now waiting",
                "control: spinner suspended by a handler, worker still waiting",
                "control: priorities worker 3, controller 2, helper 1",
                "control: helper raised to 4 took go first: true, worker waiting",
                "control: helper step 2, worker waiting for shared",
                "control: waiter lowered to 1: at +13 the holder has not run: true",
                "control: waiter raised to 3: holder released before the call returned: true, worker step 4, exited",
                "control: spinner raised to 3 ran before the call returned: true, lowered itself to 1",
            ], log)
            XCTAssertEqual(result.stacks.first { $0.task == "spinner" }?.state, "suspended", log)
        }
    }
}
