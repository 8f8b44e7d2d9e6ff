// keel decode: a console captured earlier (a real board's serial port, a saved run) read with its ELF.

import ArgumentParser
import Foundation
import KeelKit

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode a captured console (log records, faults, the stack table) with the ELF of the build that wrote it.",
        discussion: """
        Reads the console from FILE, or from standard input when none is given (e.g. a serial \
        port: `cat /dev/ttyACM0 | keel decode sensor.elf`), and prints it as `keel run` does. A \
        boot line names the build that ran (`keel:boot id=...`); when it is not the ELF's build, \
        nothing after it is decoded and the exit code is 2: a log record read with another \
        build's image would print other bytes of flash as if they were the message.
        """)

    @Argument(help: "The ELF image of the build whose console this is.")
    var image: String

    @Argument(help: "The captured console (standard input when not given).")
    var console: String?

    @Flag(help: "Print every line and record as a JSON object per line.")
    var json = false

    /// A console is text; more than this is not one run's console.
    static let maximumConsoleBytes: UInt64 = 64 << 20

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            try FileKind.requireReadable(image, limit: ELFFile.maximumFileBytes, what: "an ELF image")
            let elfURL = URL(fileURLWithPath: image)
            let elf: ELFFile
            do { elf = try ELFFile(contentsOf: elfURL) } catch { throw .elf("\(error)") }
            // Line by line as it arrives: a serial port's console is decoded while it runs.
            let input: FileHandle
            if let console {
                try FileKind.requireReadable(console, limit: Self.maximumConsoleBytes, what: "a captured console")
                do { input = try FileHandle(forReadingFrom: URL(fileURLWithPath: console)) } catch {
                    throw .badPath(path: console, problem: "cannot be read: \(error.localizedDescription)")
                }
            } else {
                input = FileHandle.standardInput
            }
            var decoder = ConsoleDecoder(elf: elfURL, symbolizer: Symbolizer.forImage(elf, at: elfURL, toolchain: try? Toolchain.locate()))
            var records: [ConsoleRecord] = []
            func emit(_ decoded: [ConsoleRecord]) {
                records += decoded
                for record in decoded { Run.show(record, json: json) }
            }
            while true {
                let chunk = input.availableData
                if chunk.isEmpty { break }
                emit(try decoder.feed(chunk))
            }
            emit(try decoder.finish())
            if !json { Run.showTables(RunResult(records: records, exitCode: nil)) }
        }
    }
}
