// keel flash: load an image through any GDB server as GDB's `load` does, verify it, start it.

import ArgumentParser
import Foundation
import KeelKit

struct Flash: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load an image into a target through its GDB server (QEMU, OpenOCD, pyOCD, probe-rs), verify it and start it.",
        discussion: """
        As GDB's `load`: each loadable segment goes to its load address (flash the server's \
        memory map names is erased and programmed with vFlashErase/vFlashWrite/vFlashDone, \
        other memory written with X or M packets), then every byte is checked (qCRC, or read \
        back). The core then starts as from reset: SP and PC from the vector table, VTOR set \
        to it; keel lets it run and disconnects, or with --halt it waits at the reset handler \
        for a debugger. The image is the one `keel run` boots for --app and --board (built \
        first if needed, with the same stack check), or --elf.
        """)

    @Option(help: "The GDB server's TCP address: HOST:PORT, or :PORT on this machine.")
    var gdb: String?

    @Option(name: .customLong("gdb-socket"), help: "The GDB server's Unix socket path (instead of --gdb).")
    var gdbSocket: String?

    @Option(name: .long, help: "The board the image is for (see `keel boards`); its memory map bounds the segments.")
    var board: String = "mps2-an385"

    @Option(name: .long, help: "The application folder (with keel.json); its image is built if needed.")
    var app: String?

    @Option(name: .long, help: "The ELF image to load (instead of building --app).")
    var elf: String?

    @Flag(help: "Leave the core halted at the reset handler (for `keel debug --gdb` or gdb) instead of running it.")
    var halt = false

    @Flag(help: "Load the image even if its stack check fails (says what it skipped).")
    var noCheck = false

    @Option(help: "Seconds the server may take to answer before it counts as not responding (flash erases get at least 120).")
    var timeout: Double = 3

    func validate() throws {
        if (gdb == nil) == (gdbSocket == nil) {
            throw ValidationError("give the server's address: --gdb HOST:PORT (or :PORT), or --gdb-socket PATH")
        }
        if let gdb, GDBEndpoint.tcp(parsing: gdb) == nil {
            throw ValidationError("--gdb wants HOST:PORT or :PORT (a port 1 to 65535), not '\(KeelError.excerpt(gdb))'")
        }
        if (app == nil) == (elf == nil) { throw ValidationError("give --app DIR (with --board) or --elf PATH: the image to load") }
        if noCheck && elf != nil { throw ValidationError("--no-check is for --app (an --elf image is loaded as it is)") }
        guard timeout > 0 && timeout <= 600 else { throw ValidationError("--timeout takes more than 0 and at most 600 seconds") }
    }

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            let board = try BoardCatalog.board(named: board)
            let image = try Self.elf(app: app, elf: elf, board: board, noCheck: noCheck)
            let file: ELFFile
            do throws(ELFError) { file = try ELFFile(contentsOf: image) } catch { throw .elf(error.description) }
            let loadable = try LoadableImage(elf: file, board: board)
            let endpoint = gdb.flatMap(GDBEndpoint.tcp(parsing:)) ?? .unixSocket(path: gdbSocket ?? "")
            var port: UInt16 = 3333
            if case .tcp(_, let given) = endpoint { port = given }
            printLine("loading \(image.path) (\(loadable.byteCount) bytes, \(board.name)) through \(endpoint)")
            let target = try GDBRemote(connectingTo: endpoint, timeout: timeout, startHint: FlashLoader.startHint(board: board, port: port))
            // ARMv6-M parts (the micro:bit's nRF51) have no VTOR: the table must be at 0 there.
            let report = try FlashLoader(target: target).load(loadable, setsVectorTable: board.architecture != .armv6m, halt: halt)
            for line in report.lines { printLine("  " + line) }
        }
    }

    /// The ELF to load: --elf as given, or the image `keel run` boots for --app on `board`.
    static func elf(app: String?, elf: String?, board: Board, noCheck: Bool) throws(KeelError) -> URL {
        if let elf {
            try FileKind.requireReadable(elf, limit: ELFFile.maximumFileBytes, what: "an ELF image")
            return URL(fileURLWithPath: elf)
        }
        let application = try Manifest.load(directory: URL(fileURLWithPath: app ?? "").standardizedFileURL, board: board)
        return try Run.checkedImage(application, for: board, noCheck: noCheck).elf
    }
}
