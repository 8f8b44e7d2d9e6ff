// Debugger: how `keel debug` starts gdb on an image, attached to a GDB server.
//
// Debian's gdb-multiarch reads ARM images (the plain `gdb` package is built for the host
// only). Keel does not install it: a command that asks for root in the middle of a debugging
// session would surprise; the error says the one line to run.
// `target extended-remote` rather than `remote`: gdb then stays connected when the program
// ends or is killed, as OpenOCD, pyOCD, probe-rs and QEMU all allow.
// gdb is started with posix_spawn, not Foundation's Process: Process puts its child in a new
// process group, which is not the terminal's foreground group, so an interactive gdb would be
// stopped (SIGTTIN) at its first read of the terminal. Spawned in keel's own group, gdb gets the
// terminal and Ctrl-C, which keel ignores meanwhile (Ctrl-C in gdb interrupts the target).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

public enum Debugger {
    public static let executableName = "gdb-multiarch"

    /// gdb-multiarch on PATH, or the error that says how to install it.
    public static func locate() throws(KeelError) -> URL {
        guard let gdb = Subprocess.find(executableName) else {
            throw .toolMissing(tool: executableName, hint: "install it with: sudo apt-get install -y gdb-multiarch")
        }
        return gdb
    }

    /// gdb's arguments: the image's symbols, attached to the server at `endpoint`.
    public static func arguments(elf: URL, endpoint: GDBEndpoint) -> [String] {
        // A Unix socket is given to gdb as its path; a TCP address as HOST:PORT.
        [elf.path, "-ex", "target extended-remote \(endpoint)"]
    }

    /// Runs gdb on this terminal until it exits, and returns its exit status.
    public static func run(_ executable: URL, arguments: [String]) throws(KeelError) -> Int32 {
        let previous = signal(SIGINT, SIG_IGN)
        defer { signal(SIGINT, previous) }
        // gdb itself gets the default Ctrl-C disposition back (it installs its own handler).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child = pid_t()
        let started = posix_spawn(&child, executable.path, nil, &attributes, argv, environ)
        guard started == 0 else {
            throw .toolMissing(tool: executable.path, hint: "it could not be started: \(String(cString: strerror(started)))")
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        // Exited: its code; killed by a signal: 128 + the signal, as a shell reports it.
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}
