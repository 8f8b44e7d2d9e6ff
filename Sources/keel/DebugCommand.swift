// keel debug: gdb-multiarch on an image, attached to a GDB server or to a QEMU keel starts halted.

import ArgumentParser
import Dispatch
import Foundation
import KeelKit

struct Debug: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Debug an image with gdb-multiarch, on a GDB server (--gdb) or under a QEMU keel starts halted.",
        discussion: """
        Without --gdb, keel builds --app as `keel run` does and boots it under QEMU halted before \
        its first instruction, with a gdb stub on --port (the console streams here as `keel \
        run` prints it); QEMU is stopped when gdb exits. With --gdb, gdb attaches to that \
        server (a board after `keel flash --halt`, OpenOCD, pyOCD, probe-rs). Arguments after \
        `--` go to gdb (e.g. `-- -batch -ex 'info registers'`).
        """)

    @Option(help: "The GDB server's TCP address: HOST:PORT, or :PORT on this machine (without it, keel starts QEMU).")
    var gdb: String?

    @Option(name: .long, help: "The board the image is for (see `keel boards`).")
    var board: String = "mps2-an385"

    @Option(name: .long, help: "The application folder (with keel.json); its image is built if needed.")
    var app: String?

    @Option(name: .long, help: "The ELF image to debug (instead of building --app); needs --gdb.")
    var elf: String?

    @Option(help: "The TCP port of the gdb stub of the QEMU keel starts (without --gdb).")
    var port: Int = 1234

    @Flag(help: "Boot the image even if its stack check fails (says what it skipped).")
    var noCheck = false

    @Argument(parsing: .postTerminator, help: "Arguments for gdb, after `--`.")
    var gdbArguments: [String] = []

    func validate() throws {
        if let gdb, GDBEndpoint.tcp(parsing: gdb) == nil {
            throw ValidationError("--gdb wants HOST:PORT or :PORT (a port 1 to 65535), not '\(KeelError.excerpt(gdb))'")
        }
        if (app == nil) == (elf == nil) { throw ValidationError("give --app DIR (with --board) or --elf PATH: the image to debug") }
        if elf != nil && gdb == nil {
            throw ValidationError("--elf needs --gdb HOST:PORT, a server that runs it (`keel flash --halt` loads it); keel starts QEMU only for --app")
        }
        guard (1...65535).contains(port) else { throw ValidationError("--port is 1 to 65535, not \(port)") }
    }

    func run() throws {
        var status: Int32 = 0
        try reportingErrors { () throws(KeelError) in
            let debugger = try Debugger.locate()
            let board = try BoardCatalog.board(named: board)
            if let gdb, let endpoint = GDBEndpoint.tcp(parsing: gdb) {
                let elf = try Flash.elf(app: app, elf: elf, board: board, noCheck: noCheck)
                status = try Debugger.run(debugger, arguments: Debugger.arguments(elf: elf, endpoint: endpoint) + gdbArguments)
                return
            }
            let application = try Manifest.load(directory: URL(fileURLWithPath: app ?? "").standardizedFileURL, board: board)
            let image = try Run.checkedImage(application, for: board, noCheck: noCheck)
            let endpoint = GDBEndpoint.tcp(host: "localhost", port: UInt16(port))
            let qemu = QEMUSession()
            Thread.detachNewThread { [port] in
                qemu.finish(Result { () throws(KeelError) in try Run.execute(image, options: RunOptions(gdbPort: port), json: false) })
            }
            try qemu.waitUntilListening(endpoint)
            status = try Debugger.run(debugger, arguments: Debugger.arguments(elf: image.elf, endpoint: endpoint) + gdbArguments)
            // gdb detached (or quit without killing): QEMU still waits or runs; `k` ends it.
            if !qemu.finished(within: 0.5) { (try? GDBRemote(connectingTo: endpoint, timeout: 2))?.kill() }
            _ = qemu.finished(within: 5)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// The QEMU `keel debug` starts, run on its own thread: whether its stub listens yet, and its end.
private final class QEMUSession: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: Result<RunResult, KeelError>? = nil

    func finish(_ result: Result<RunResult, KeelError>) {
        lock.withLock { self.result = result }
        done.signal()
    }

    /// True when QEMU has ended (within `seconds`).
    func finished(within seconds: Double) -> Bool {
        guard done.wait(timeout: .now() + seconds) == .success else { return false }
        done.signal()  // later waits see it too
        return true
    }

    /// Waits until the stub takes a connection (QEMU needs a moment to start), or says why not.
    func waitUntilListening(_ endpoint: GDBEndpoint) throws(KeelError) {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if case .failure(let error)? = lock.withLock({ result }) { throw error }
            if finished(within: 0) { throw .runFailed("QEMU ended before its gdb stub took a connection (is port \(endpoint) in use?)") }
            if let probe = try? GDBRemote(connectingTo: endpoint, timeout: 2) {
                probe.disconnect()  // leaves the core halted before its first instruction
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw .runFailed("QEMU's gdb stub did not take a connection on \(endpoint) within 15 s")
    }
}
