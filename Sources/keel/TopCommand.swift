// keel top: the tasks of a running image through a GDB stub, once or every few seconds.

import ArgumentParser
import Dispatch
import Foundation
import KeelKit

struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a running image's tasks through a GDB stub: state, priority, stack now and at its high-water mark, protection, faults.",
        discussion: """
        Start a stub with `keel run --gdb-listen PORT` (QEMU), or OpenOCD or probe-rs on a real part. \
        The target is halted while the table is read (a few milliseconds) and runs on after. The image \
        is the one `keel build` made for --app and --board (built first if needed), or --elf.
        """)

    @Option(help: "The GDB stub's TCP address: HOST:PORT, or :PORT on this machine.")
    var gdb: String?

    @Option(name: .customLong("gdb-socket"), help: "The GDB stub's Unix socket path (instead of --gdb).")
    var gdbSocket: String?

    @Option(name: .long, help: "The board the image was built for (see `keel boards`).")
    var board: String = "mps2-an385"

    @Option(name: .long, help: "The application folder (with keel.json); its image is built if needed.")
    var app: String?

    @Option(name: .long, help: "The ELF image running on the target (instead of building --app).")
    var elf: String?

    @Flag(help: "Read the table again every SECONDS (1 when not given) until interrupted (Ctrl-C).")
    var watch = false

    @Argument(help: "Seconds between two reads with --watch.")
    var seconds: Double?

    @Flag(help: "Print each table as one JSON object per line.")
    var json = false

    @Flag(help: "Also show the Log records the image wrote to its RTT channel (\"log\": \"rtt\") since the last read.")
    var log = false

    @Option(help: "Seconds the target may take to answer before it counts as not responding.")
    var timeout: Double = 3

    func validate() throws {
        if (gdb == nil) == (gdbSocket == nil) {
            throw ValidationError("give the stub's address: --gdb HOST:PORT (or :PORT), or --gdb-socket PATH")
        }
        if let gdb, GDBEndpoint.tcp(parsing: gdb) == nil {
            throw ValidationError("--gdb wants HOST:PORT or :PORT (a port 1 to 65535), not '\(KeelError.excerpt(gdb))'")
        }
        if app == nil && elf == nil { throw ValidationError("give --app DIR (with --board) or --elf PATH: the image the target runs") }
        if let seconds {
            guard watch else { throw ValidationError("'\(seconds)' is the interval of --watch; add --watch") }
            guard seconds >= 0.1 && seconds <= 3600 else { throw ValidationError("--watch takes 0.1 to 3600 seconds, not \(seconds)") }
        }
        guard timeout > 0 && timeout <= 600 else { throw ValidationError("--timeout takes more than 0 and at most 600 seconds") }
    }

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            let (image, elfURL) = try Self.image(app: app, elf: elf, board: board)
            let endpoint = gdb.flatMap(GDBEndpoint.tcp(parsing:)) ?? .unixSocket(path: gdbSocket ?? "")
            // The log's channel, and its decoder kept from one read to the next (a record may
            // be cut between two reads).
            let rtt = log ? try RTTReader(elf: elfURL) : nil
            var decoder = ConsoleDecoder(elf: elfURL, symbolizer: nil)
            let target = try GDBRemote(connectingTo: endpoint, timeout: timeout)
            defer { target.close() }
            let stop = StopRequest()
            if watch { stop.install() }
            var first = true
            while true {
                let start = Date()
                let table = try TaskTable.snapshot(image, through: target)
                let milliseconds = Date().timeIntervalSince(start) * 1000
                show(table, milliseconds: milliseconds, endpoint: endpoint, clear: watch && !first)
                if let rtt { try showLog(try decoder.feed(Data(try rtt.read(target)))) }
                first = false
                guard watch else { return }
                try target.resume()
                if stop.wait(seconds: seconds ?? 1) { return }
            }
        }
    }

    /// The log records read from the channel since the last table (the host reads it in the
    /// channel's own mode: skip, unless `keel run` set block; a full channel drops and counts).
    func showLog(_ records: [ConsoleRecord]) throws(KeelError) {
        let lines = records.compactMap { if case .output(let line) = $0 { line } else { nil } }
        if json {
            for line in lines { printLine(RunReport.jsonLine(["event": "log", "text": line])) }
            return
        }
        printLine("log (RTT): \(lines.isEmpty ? "nothing new" : "\(lines.count) new line\(lines.count == 1 ? "" : "s")")")
        for line in lines { printLine("  " + line) }
    }

    func show(_ table: TaskTable, milliseconds: Double, endpoint: GDBEndpoint, clear: Bool) {
        let rounded = (milliseconds * 10).rounded() / 10
        if json {
            printLine(RunReport.json(table, extra: ["read_ms": rounded]))
            return
        }
        // A terminal shows the latest table in place; a pipe gets one after the other.
        if clear && isatty(STDOUT_FILENO) != 0 { FileHandle.standardOutput.write(Data("\u{1B}[H\u{1B}[2J".utf8)) }
        if clear && isatty(STDOUT_FILENO) == 0 { printLine() }
        printLine("\(endpoint): running \(table.running ?? "?"), read in \(rounded) ms")
        printLine(RunReport.taskTable(table))
    }

    /// What the image says about its tasks: from --elf, or from the build of --app for --board.
    static func image(app: String?, elf: String?, board boardName: String) throws(KeelError) -> (TaskTableImage, URL) {
        var application: Application? = nil
        if let app {
            let board = try BoardCatalog.board(named: boardName)
            application = try Manifest.load(directory: URL(fileURLWithPath: app).standardizedFileURL, board: board)
        }
        let taskCount = application.map { $0.tasks.count + 1 }  // idle is last
        if let elf {
            try FileKind.requireReadable(elf, limit: ELFFile.maximumFileBytes, what: "an ELF image")
            let url = URL(fileURLWithPath: elf)
            return (try TaskTableImage(contentsOf: url, taskCount: taskCount, objects: application?.objects), url)
        }
        let board = try BoardCatalog.board(named: boardName)
        // The image `keel build` made (reused when nothing changed), without the stack check:
        // the table is read whatever the check says.
        let built = try FirmwareBuilder(toolchain: try Toolchain.locate()).buildChecked(application!, for: board, mode: .off)
        return (try TaskTableImage(contentsOf: built.image.elf, taskCount: taskCount, objects: application?.objects), built.image.elf)
    }
}

/// Ctrl-C (or SIGTERM) during --watch: the current read finishes, the target is left running.
private final class StopRequest: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private var sources: [DispatchSourceSignal] = []

    func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [semaphore] in semaphore.signal() }
            source.resume()
            sources.append(source)
        }
    }

    /// Waits `seconds`; true when a stop was asked for meanwhile (or before).
    func wait(seconds: Double) -> Bool {
        semaphore.wait(timeout: .now() + seconds) == .success
    }
}
