// The console is the board's UART on every board: with QEMU's serial port sent to a file,
// every line (print, the log, the kernel's records) is in the file and none reaches standard
// output, while semihosting still ends the run with the firmware's exit code.

import Foundation
import KeelKit
import XCTest

final class ConsoleTests: XCTestCase {
    static let firmware: [TestFirmware.Request] = allBoards.map { .init(app: "periodic", board: $0) }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testConsoleGoesOverTheUARTOnEveryBoard() throws {
        for board in allBoards {
            let image = try TestFirmware.shared.image("periodic", board: board)
            let runner = try XCTUnwrap(TestFirmware.shared.runner)
            let serial = FileManager.default.temporaryDirectory.appendingPathComponent("keel-serial-\(UUID().uuidString).txt")
            addTeardownBlock { try? FileManager.default.removeItem(at: serial) }
            var arguments = runner.arguments(for: image, options: RunOptions())
            let port = try XCTUnwrap(arguments.firstIndex(of: "-serial"), "\(arguments)")
            arguments[port + 1] = "file:" + serial.path
            let process = Process()
            process.executableURL = runner.qemu
            process.arguments = arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = Pipe()
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let watchdog = DispatchWorkItem { process.terminate() }
            DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: watchdog)
            let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            watchdog.cancel()
            let uart = try String(contentsOf: serial, encoding: .utf8)
            XCTAssertEqual(process.terminationStatus, 0, "\(board): semihosting ends the run with the firmware's code")
            XCTAssertTrue(stdout.isEmpty, "\(board): nothing but the UART carries the console: \(stdout.prefix(200))")
            let lines = uart.split(separator: "\n").map(String.init)
            // The boot line names the build: the ID keel build put into this image.
            let identity = try XCTUnwrap(BuildIdentity(elf: try ELFFile(contentsOf: image.elf)), "\(board): the image has a build ID")
            XCTAssertEqual(lines.first, "keel:boot id=\(identity)", "\(board): \(uart.prefix(300))")
            XCTAssertEqual(lines.filter { $0.hasPrefix("keel-test:woke ") }.count, 10, "\(board): \(uart.prefix(600))")
            XCTAssertTrue(lines.contains { $0.hasPrefix("keel:stack task=periodic ") }, "\(board)")
            XCTAssertEqual(lines.last, "keel:end code=0", "\(board)")
        }
    }
}
