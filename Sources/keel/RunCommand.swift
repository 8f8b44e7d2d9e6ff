// keel run: build if needed, boot under QEMU, stream the console, exit with the firmware's code.

import ArgumentParser
import Foundation
import KeelKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build (if needed) and run an application under QEMU; exits with the firmware's exit code.",
        discussion: """
        Console input: an image whose keel.json declares "console": {"input": N} reads this         command's standard input through the board's UART (type into it, or pipe a file in).         Exit codes: the firmware's own code when it is not 0; 4 when it ended with 0 but a fault         happened that the manifest does not declare ("expect" on the task, "handler_expect");         124 when QEMU was stopped by --timeout; 1 when a tool or the build failed; 2 for bad input.
        """)

    @OptionGroup var target: TargetOptions

    @Option(help: "Seconds before QEMU is stopped.")
    var timeout: Double = 30

    @Option(help: "Wait for a debugger (gdb: target remote :PORT) before the first instruction.")
    var gdb: Int?

    @Option(name: .customLong("gdb-listen"),
            help: "Run at once with a gdb stub on this TCP port, for `keel top --gdb :PORT` (or gdb) to attach at any time.")
    var gdbListen: Int?

    @Option(help: ArgumentHelp("Where Log records go in this run: uart, or rtt (an RTT channel in RAM, read through QEMU's gdb stub); keel.json's \"log\" by default.",
                               valueName: "channel"))
    var log: LogDestination?

    @Flag(help: "Print every console line and record as a JSON object per line.")
    var json = false

    @Flag(help: "Boot the image even if its stack check fails (says what it skipped).")
    var noCheck = false

    static let timeoutExitCode: Int32 = 124

    /// `--log`: the channel this run's image logs to, whatever keel.json says.
    enum LogDestination: String, ExpressibleByArgument, CaseIterable {
        case uart, rtt

        /// The application as built for this channel (under a name of its own when it differs
        /// from the manifest's, so the two builds do not replace each other).
        func applied(to application: Application) -> Application {
            var changed = application
            switch (self, application.log) {
            case (.uart, .uart), (.rtt, .rtt): return application
            case (.uart, .rtt): changed.log = .uart; changed.name += "-uart"
            case (.rtt, .uart): changed.log = .rtt(bytes: LogChannel.defaultRTTBytes); changed.name += "-rtt"
            }
            return changed
        }
    }

    func validate() throws {
        if gdb != nil && gdbListen != nil { throw ValidationError("give --gdb (wait for gdb) or --gdb-listen (run at once), not both") }
        for port in [gdb, gdbListen].compactMap({ $0 }) where !(1...65535).contains(port) {
            throw ValidationError("a gdb port is 1 to 65535, not \(port)")
        }
    }

    func run() throws {
        var exitCode: Int32 = 0
        try reportingErrors { () throws(KeelError) in
            var (board, application) = try target.resolve()
            if let log { application = log.applied(to: application) }
            let image = try Self.checkedImage(application, for: board, noCheck: noCheck)
            var options = RunOptions(timeoutSeconds: timeout, gdbPort: gdb, gdbListenPort: gdbListen, readsTasksAtTimeout: true)
            // An image that reads its console gets this command's standard input, as a board's
            // UART gets what a terminal types; one that reads none leaves it alone.
            if application.console.inputBytes > 0 { options.input = .standardInput }
            let result = try Self.execute(image, options: options, json: json)
            if result.timedOut {
                FileHandle.standardError.write(Data("keel: QEMU timed out after \(timeout) s; the firmware did not finish\n".utf8))
                if let problem = result.tasksAtTimeoutProblem {
                    FileHandle.standardError.write(Data("keel: the task table could not be read at the timeout: \(problem)\n".utf8))
                }
                exitCode = Self.timeoutExitCode
            } else {
                exitCode = result.exitCode ?? 1
                let verdict = RunVerdict.evaluate(result, application: application)
                if exitCode == 0 && !verdict.unexpected.isEmpty {
                    for line in verdict.explanation { FileHandle.standardError.write(Data("keel: \(line)\n".utf8)) }
                    exitCode = RunVerdict.unexpectedFaultExitCode
                }
            }
        }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

    /// The image `keel run` boots (and `keel flash` loads, `keel debug` debugs): the same plan as
    /// `keel build`, automatic sizes, and only if its check passes (`noCheck`: says what it skipped).
    static func checkedImage(_ application: Application, for board: Board, noCheck: Bool) throws(KeelError) -> FirmwareImage {
        let checked = try FirmwareBuilder(toolchain: try Toolchain.locate())
            .buildChecked(application, for: board, mode: noCheck ? .off : nil)
        if noCheck {
            let findings = StackCheck.findings(checked.report)
            FileHandle.standardError.write(Data(("keel: --no-check: booting without the stack check"
                + (findings.isEmpty ? " (it would have passed)" : "; it finds \(findings.count) problem(s), `keel check` lists them") + "\n").utf8))
        } else if !checked.findings.isEmpty {
            for finding in checked.findings {
                let lines = finding.lines(indent: "  ")
                FileHandle.standardError.write(Data(("keel: warning (\"stack_check\": \"warn\"): "
                    + lines.joined(separator: "\n").dropFirst(2) + "\n").utf8))
            }
        }
        return checked.image
    }

    /// Runs an image and prints its console as it arrives: text, decoded faults, the stack table.
    static func execute(_ image: FirmwareImage, options: RunOptions, json: Bool, indent: String = "") throws(KeelError) -> RunResult {
        let runner = try QEMURunner.locate()
        let toolchain = try? Toolchain.locate()
        let symbolizer = Symbolizer.forImage(at: image.elf, toolchain: toolchain)
        if let port = options.gdbPort, !json { printLine("waiting for gdb on port \(port): target remote :\(port)") }
        if let port = options.gdbListenPort, !json {
            printLine("gdb stub on port \(port): keel top --gdb :\(port) --app \(image.application.directory.path) --board \(image.board.name), or gdb: target remote :\(port)")
            if image.application.log.rttBytes != nil { printLine("the log is on RTT: keel top --log --gdb :\(port) --elf \(image.elf.path) reads it") }
        }
        let result = try runner.run(image, options: options, symbolizer: symbolizer) { show($0, json: json, indent: indent) }
        if !json { showTables(result, indent: indent) }
        if let tasks = result.tasksAtTimeout {
            if json {
                printLine(RunReport.json(tasks))
            } else {
                printLine()
                printLine(indent + "tasks when the timeout stopped the run (running: \(tasks.running ?? "?")):")
                printLine(RunReport.taskTable(tasks).split(separator: "\n").map { indent + $0 }.joined(separator: "\n"))
            }
        }
        if !result.qemuErrors.isEmpty && !result.timedOut && result.exitCode != 0 && !json {
            printLine(indent + "qemu: " + result.qemuErrors)
        }
        if json, let code = result.exitCode { printLine(RunReport.jsonLine(["event": "exit", "code": Int(code)])) }
        return result
    }

    /// Prints one console record as it arrives: text, a decoded fault, a refused segment.
    static func show(_ record: ConsoleRecord, json: Bool, indent: String = "") {
        if json { printLine(RunReport.json(record)); return }
        switch record {
        case .output(let line): printLine(indent + line)
        case .fault(let fault):
            printLine(indent + RunReport.describe(fault))
            for line in RunReport.backtraceLines(fault) { printLine(indent + line) }
        case .previousBoot(let fault):
            printLine(indent + "previous boot: " + RunReport.describe(fault))
            for line in RunReport.backtraceLines(fault) { printLine(indent + line) }
        case .deadlock(let deadlock): printLine(indent + RunReport.describe(deadlock))
        case .spared(let record): printLine(indent + RunReport.describe(record))
        case .consoleLoss(let record): printLine(indent + RunReport.describe(record))
        case .segments(let record) where record.kind == .refused:
            printLine(indent + "segments refused to '\(record.task ?? "?")': \(record.reason ?? "?"), asked \(record["asked"] ?? 0) bytes "
                + "holding \(record["held"] ?? 0) in \(record["segments"] ?? 0) segments (max \(record["max"] ?? 0), pool free \(record["pool_free"] ?? 0))")
        case .boot, .stack, .segments, .stackWords, .end: break
        }
    }

    /// The stack table and the segment table a run ends with, when it printed their records.
    static func showTables(_ result: RunResult, indent: String = "") {
        if !result.stacks.isEmpty {
            printLine()
            printLine(RunReport.stackTable(result.stacks + [result.handlerStack].compactMap { $0 }).split(separator: "\n").map { indent + $0 }.joined(separator: "\n"))
        }
        let segments = RunReport.segmentTable(result.segments)
        if !segments.isEmpty {
            printLine()
            printLine(segments.split(separator: "\n").map { indent + $0 }.joined(separator: "\n"))
        }
    }
}
