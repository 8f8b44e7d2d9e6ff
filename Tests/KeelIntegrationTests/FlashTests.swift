// keel flash against QEMU as against a board: QEMU starts with empty memory, halted, a gdb stub
// on a port and the console and semihosting as `keel run` has them; `keel flash` loads an image
// the suite builds anyway (the services' queues on the M3) through the stub and starts it, and
// the console must be what `keel run` of that image prints. Also the two mistakes a new user
// makes first: nothing listening on the port, and an image built for another board.

import Foundation
import KeelKit
import XCTest

final class FlashTests: XCTestCase {
    /// ServicesTests builds and runs the same image: nothing new to build.
    static let firmware: [TestFirmware.Request] = [.init(app: "queues", board: "mps2-an385")]
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testAnImageFlashedIntoAnEmptyHaltedQEMURunsAsKeelRunRunsIt() throws {
        let image = try TestFirmware.shared.image("queues", board: "mps2-an385")
        let expected = try TestFirmware.shared.run("queues", board: "mps2-an385")
        let runner = try XCTUnwrap(TestFirmware.shared.runner)
        let port = try freeTCPPort()
        let outcome = FlashedRun()
        Thread.detachNewThread {
            outcome.finish(try? runner.run(image, options: RunOptions(timeoutSeconds: 60, gdbPort: port, loadsImage: false)))
        }
        try waitForStub(port)

        let flashed = try runProcess(["flash", "--gdb", "localhost:\(port)", "--board", "mps2-an385", "--elf", image.elf.path], seconds: 60)
        XCTAssertEqual(flashed.status, 0, flashed.errors)
        let lines = flashed.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(lines.contains { $0.hasPrefix("segment 1 (.text)") && $0.hasSuffix("memory writes (M, hex)") }, "QEMU refuses X: \(flashed.output)")
        XCTAssertTrue(lines.contains("verified: every byte matches (read back with m)"), flashed.output)
        XCTAssertTrue(lines.last?.hasSuffix("; running") ?? false, flashed.output)

        let result = try XCTUnwrap(outcome.wait(seconds: 60), "QEMU ends when the flashed firmware does")
        XCTAssertEqual(result.exitCode, expected.exitCode, transcript(result))
        XCTAssertEqual(result.boots, 1)
        XCTAssertGreaterThan(expected.output.count, 5, transcript(expected))
        XCTAssertEqual(result.output, expected.output, "the console of `keel run`, line for line")
        XCTAssertEqual(result.stacks.map(\.task), expected.stacks.map(\.task))
    }

    func testNothingListeningAndAnImageForAnotherBoardAreClearErrors() throws {
        let image = try TestFirmware.shared.image("queues", board: "mps2-an385")
        let port = try freeTCPPort()
        let refused = try runProcess(["flash", "--gdb", "localhost:\(port)", "--board", "mps2-an385", "--elf", image.elf.path], seconds: 30)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.errors.hasPrefix("keel: error: cannot connect to the GDB stub at localhost:\(port): Connection refused "
            + "(start a GDB server there first: `qemu-system-arm -M mps2-an385 -nographic -semihosting-config enable=on,target=native -S -gdb tcp::\(port)`"),
            refused.errors)

        let elsewhere = try runProcess(["flash", "--gdb", "localhost:\(port)", "--board", "mps2-an505", "--elf", image.elf.path], seconds: 30)
        XCTAssertEqual(elsewhere.status, 2)
        XCTAssertTrue(elsewhere.errors.hasPrefix("keel: error: bad ELF image: segment 0 (.vectors, .keel_build_id) loads "), elsewhere.errors)
        XCTAssertTrue(elsewhere.errors.contains("outside mps2-an505's flash (0x10000000-0x103fffff) and RAM (0x38000000-0x381fffff)"), elsewhere.errors)
    }

    /// Waits until QEMU's stub takes a connection (it starts listening a moment after launch).
    func waitForStub(_ port: Int) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let probe = try? GDBRemote(connectingTo: .tcp(host: "localhost", port: UInt16(port)), timeout: 2) {
                probe.disconnect()  // the core stays halted before its first instruction
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("QEMU's gdb stub did not listen on port \(port)")
    }
}

/// The flashed QEMU's run, finished on another thread.
private final class FlashedRun: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var value: RunResult?

    func finish(_ result: RunResult?) {
        lock.withLock { value = result }
        done.signal()
    }

    func wait(seconds: Double) -> RunResult? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return lock.withLock { value }
    }
}
