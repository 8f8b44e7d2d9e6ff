// The instruction counts `keel bench` reports are exact: two runs of one image agree.

import KeelKit
import XCTest

final class BenchTests: XCTestCase {
    func testTwoRunsCountTheSameInstructions() throws {
        let image = try TestFirmware.shared.image("bench-switch", board: "mps2-an505", variant: "t1-t4-t5") { application in
            application.tasks = application.tasks.map {
                TaskSpec(name: $0.name, entry: $0.entry, priority: $0.priority, stackBytes: $0.stackBytes,
                         protections: [.limitRegister, .redZone, .stackPointerCheck], redZoneBytes: 16)
            }
        }
        guard let runner = TestFirmware.shared.runner else { throw XCTSkip("qemu-system-arm is not installed") }
        let bench = ContextSwitchBench(builder: try XCTUnwrap(TestFirmware.shared.builder), runner: runner,
                                       plugin: try ContextSwitchBench.makePlugin())
        let first = try bench.count(image)
        let second = try bench.count(image)
        XCTAssertEqual(first, second)
        // 2000 switches, each at least a save, a scheduler call and a restore.
        XCTAssertGreaterThan(first, UInt64(ContextSwitchBench.switches) * 20)
        XCTAssertLessThan(first, UInt64(ContextSwitchBench.switches) * 500)
    }
}
