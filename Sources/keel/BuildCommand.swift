// keel build: compile an application and the kernel into an ELF image for a board.

import ArgumentParser
import Foundation
import KeelKit

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build an application for a board and print its flash and RAM use.")

    @OptionGroup var target: TargetOptions

    @Option(name: .shortAndLong, help: "Where to write the ELF image (default: the app's .build/keel folder).")
    var output: String?

    @Flag(help: "Skip the stack check (see `keel check`) that runs after linking.")
    var noCheck = false

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            // Before anything is built: the image replaces what is at --output, never a directory or a device.
            if let output { try FileKind.requireWritable(output, creatingFolders: true) }
            let (board, application) = try target.resolve()
            let builder = FirmwareBuilder(toolchain: try Toolchain.locate())
            let checked = try builder.buildChecked(application, for: board, output: output.map { URL(fileURLWithPath: $0) },
                                                   mode: noCheck ? .off : nil)
            printLine(Self.summary(checked.image))
            for (task, bytes) in checked.automaticStacks.sorted(by: { $0.key < $1.key }) {
                if application.tasks.first(where: { $0.name == task })?.segmented != nil {
                    printLine("  \"initial\": \"auto\": \(task)'s first segment gets \(bytes) bytes "
                              + "(its path with each recursion once + the exception frame + the \(SegmentedStack.slackBytes)-byte slack)")
                } else {
                    // What the task gets is what was placed: the MPU's rules may pad the request.
                    let placed = checked.image.layout.taskStacks.first { $0.name == task }.map { Int($0.bytes) } ?? bytes
                    printLine("  stack \"auto\": \(task) gets \(placed) bytes (worst case + margin from the stack analysis: \(bytes)"
                              + (placed > bytes ? ", padded for the MPU's rules)" : ")"))
                }
            }
            if noCheck || application.stackCheck == .off { return }
            if checked.findings.isEmpty {
                printLine("  stack check: every stack holds its worst case")
            } else {
                printLine("  stack check: \(checked.findings.count) warning(s) (\"stack_check\": \"warn\"):")
                for finding in checked.findings { finding.lines(indent: "    ").forEach(printLine) }
            }
        }
    }

    static func summary(_ image: FirmwareImage) -> String {
        let board = image.board
        func percent(_ used: Int, _ total: UInt32) -> String { String(format: "%.1f%%", Double(used) / Double(total) * 100) }
        return """
        \(image.elf.path)\(image.rebuilt ? "" : " (unchanged)")
          flash images: \(image.binary.lastPathComponent) (raw, from \(hex(board.flash.origin))), \(image.hex.lastPathComponent) (Intel HEX)
          flash \(image.flashBytes) of \(board.flash.length) bytes (\(percent(image.flashBytes, board.flash.length)))
          RAM   \(image.ramBytes) of \(board.ram.length) bytes (\(percent(image.ramBytes, board.ram.length))): \
        stacks \(image.layout.stackAreaBytes), data+bss \(image.ramBytes - Int(image.layout.stackAreaBytes)), rest is heap
        """
    }
}
