// keel boards: the boards Keel knows, as a table or JSON.

import ArgumentParser
import Foundation
import KeelKit

struct Boards: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the boards Keel can build for and run under QEMU.")

    @Flag(help: "Print the boards as JSON.")
    var json = false

    func run() throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            printLine(String(decoding: try encoder.encode(BoardCatalog.all), as: UTF8.self))
            return
        }
        var rows = [["board", "cpu", "arch", "flash", "RAM", "FPU (default float)", "MPU", "stack limit", "IRQs", "QEMU machine"]]
        for board in BoardCatalog.all {
            rows.append([board.name, board.cpu, board.architecture.rawValue,
                         "\(board.flash.length / 1024) KiB @ 0x\(String(board.flash.origin, radix: 16))",
                         "\(board.ram.length / 1024) KiB @ 0x\(String(board.ram.origin, radix: 16))",
                         board.fpu.map { "\($0.name) (hard)" } ?? "none (soft)",
                         board.mpu == .none ? "none" : "\(board.mpu.displayName), \(board.mpuRegions) regions",
                         board.hasStackLimitRegisters ? "PSPLIM/MSPLIM" : "none",
                         "\(board.interruptLines)", board.qemuMachine])
        }
        printLine(RunReport.table(rows))
    }
}
