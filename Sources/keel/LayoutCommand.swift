// keel layout: where every stack, guard and MPU region goes.
//
// It plans RAM exactly as `keel build` does and prints the plan as a table (or JSON), and can
// write the same plan as an SVG memory map and as the linker script the build links with.
// Without "auto" stacks nothing is built; with them, the plan is the one `keel build` makes
// (the build that measures them is cached and shared), so the sizes shown are the real ones.

import ArgumentParser
import Foundation
import KeelKit

struct Layout: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Show where every stack, guard and MPU region goes (what `keel build` links).")

    @OptionGroup var target: TargetOptions

    @Flag(help: "Print the layout as JSON instead of tables.")
    var json = false

    @Option(name: .customLong("svg"), help: ArgumentHelp("Write a memory map of RAM as SVG to this file.", valueName: "file"))
    var svgPath: String?

    @Option(name: .customLong("ld"), help: ArgumentHelp("Write the linker script `keel build` links with to this file (- for standard output).", valueName: "file"))
    var linkerScriptPath: String?

    func validate() throws {
        if json && linkerScriptPath == "-" {
            throw ValidationError("--json and --ld - both write to standard output; give --ld a file")
        }
    }

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            // Before anything is written: each file replaces a file, never a directory, FIFO or device.
            for path in [svgPath, linkerScriptPath].compactMap({ $0 }) where path != "-" {
                try FileKind.requireWritable(path)
            }
            var (board, application) = try target.resolve()
            let layout: RAMLayout
            if application.tasks.contains(where: \.automaticStack) {
                let checked = try FirmwareBuilder(toolchain: try Toolchain.locate()).buildChecked(application, for: board, mode: .off)
                application = checked.application
                layout = checked.image.layout
            } else {
                layout = try LayoutPlanner.plan(application, on: board)
            }
            var written: [String] = []
            if let svgPath {
                let svg = MemoryMapSVG.render(layout, title: "\(application.name) on \(board.name): RAM layout")
                try Self.write(svg, to: svgPath, what: "the SVG memory map")
                written.append("wrote the memory map to \(svgPath)")
            }
            if let linkerScriptPath, linkerScriptPath != "-" {
                try Self.write(LinkerScriptGenerator.script(for: board, layout: layout), to: linkerScriptPath, what: "the linker script")
                written.append("wrote the linker script to \(linkerScriptPath)")
            }

            if linkerScriptPath == "-" {
                // Standard output carries the script alone, so it can be piped or diffed.
                FileHandle.standardOutput.write(Data(LinkerScriptGenerator.script(for: board, layout: layout).utf8))
            } else {
                printLine(json ? LayoutReport.json(layout, application: application, board: board)
                               : LayoutReport.text(layout, application: application, board: board))
            }
            // Notes about written files stay off standard output when it carries JSON or the script.
            for line in written {
                if json || linkerScriptPath == "-" {
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                } else {
                    printLine(line)
                }
            }
        }
    }

    static func write(_ text: String, to path: String, what: String) throws(KeelError) {
        do {
            try text.write(to: URL(fileURLWithPath: path), atomically: true, encoding: .utf8)
        } catch {
            throw .buildFailed(step: "writing \(what) to \(path)", output: reason(error))
        }
    }

    /// Why a write failed, as the system says it ("No such file or directory"), not Foundation's wrapper.
    static func reason(_ error: any Error) -> String {
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? any Error {
            let posix = underlying as NSError
            if posix.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(posix.code))) }
        }
        return error.localizedDescription
    }
}
