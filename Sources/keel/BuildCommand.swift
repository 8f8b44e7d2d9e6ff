// keel build: compile an application and the kernel into an ELF image for a board.

import ArgumentParser
import Foundation
import KeelKit

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build an application for a board and print its flash and RAM use.")

    @OptionGroup var target: TargetOptions

    @Option(name: .shortAndLong, help: "Where to write the ELF image (default: the app's .build/keel folder).")
    var output: String?

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            let (board, application) = try target.resolve()
            let builder = FirmwareBuilder(toolchain: try Toolchain.locate())
            let image = try builder.build(application, for: board, output: output.map { URL(fileURLWithPath: $0) })
            printLine(Self.summary(image))
        }
    }

    static func summary(_ image: FirmwareImage) -> String {
        let board = image.board
        func percent(_ used: Int, _ total: UInt32) -> String { String(format: "%.1f%%", Double(used) / Double(total) * 100) }
        return """
        \(image.elf.path)\(image.rebuilt ? "" : " (unchanged)")
          flash \(image.flashBytes) of \(board.flash.length) bytes (\(percent(image.flashBytes, board.flash.length)))
          RAM   \(image.ramBytes) of \(board.ram.length) bytes (\(percent(image.ramBytes, board.ram.length))): \
        stacks \(image.layout.stackAreaBytes), data+bss \(image.ramBytes - Int(image.layout.stackAreaBytes)), rest is heap
        """
    }
}
