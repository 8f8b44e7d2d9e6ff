// Exact executed-instruction counts for firmware under QEMU, via a small TCG plugin.
//
// Why: wall-clock time of an emulated benchmark is noise: it depends on the
// host, its load and QEMU's translation cache. The number of guest instructions
// executed between two marker functions is exact and repeats bit-for-bit from
// run to run, so Keel's benchmarks compare that instead. QEMU can only count
// instructions from inside its own process, through a TCG plugin loaded over a
// C ABI, so the counter lives in `Tools/QEMUPlugins/instruction_counter.c`.
// This file compiles that plugin with the host C compiler (cached by content
// hash), builds the `-plugin` argument that loads it, and parses the one line
// it writes when QEMU exits. Run QEMU with `-icount shift=0,sleep=off` when the
// firmware uses timer interrupts: without it, when an interrupt lands depends
// on host time and the counts stop repeating.

import Foundation

// MARK: - Errors

/// Why the instruction-counter plugin could not be built, or its output read.
public enum InstructionCounterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The plugin's C source is not at the given path.
    case sourceNotFound(path: String)
    /// None of the C compilers looked for is on `PATH`.
    case noCompiler(searched: [String])
    /// The compiler ran and failed; `stderr` is what it printed.
    case compileFailed(compiler: String, status: Int32, stderr: String)
    /// The plugin's output file could not be read.
    case outputUnreadable(path: String, reason: String)
    /// The plugin's output is not `windows=N counted=N total=N`.
    case malformedOutput(String)

    public var description: String {
        switch self {
        case .sourceNotFound(let path):
            return "instruction counter plugin source not found at \(path)"
        case .noCompiler(let searched):
            return "no C compiler found on PATH to build the QEMU instruction counter plugin "
                + "(looked for \(searched.joined(separator: ", "))); install gcc or clang, or set CC"
        case .compileFailed(let compiler, let status, let stderr):
            return "compiling the QEMU instruction counter plugin with \(compiler) failed "
                + "(exit status \(status)):\n\(stderr)"
        case .outputUnreadable(let path, let reason):
            return "cannot read instruction counter output \(path): \(reason) "
                + "(did QEMU exit normally, and did the plugin load?)"
        case .malformedOutput(let text):
            return "malformed instruction counter output: \(text.debugDescription)"
        }
    }
}

// MARK: - Plugin

/// A compiled `instruction_counter` QEMU plugin, ready to be passed to `qemu-system-arm`.
public struct InstructionCounterPlugin: Sendable {
    /// The shared library QEMU loads.
    public let library: URL

    /// Wraps an already-built plugin library.
    public init(library: URL) {
        self.library = library
    }

    /// Flags the plugin is compiled with (part of the cache key). The QEMU API
    /// symbols stay undefined in the library and resolve against QEMU at load.
    #if os(macOS)
    static let compilerFlags = ["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-undefined", "dynamic_lookup"]
    #else
    static let compilerFlags = ["-shared", "-fPIC", "-O2", "-Wall", "-Wextra"]
    #endif

    /// Compilers tried, in order, when `CC` is not set.
    static let compilerNames = ["cc", "gcc", "clang"]

    /// `<packageRoot>/Tools/QEMUPlugins/instruction_counter.c`.
    public static func defaultSource(packageRoot: URL) -> URL {
        packageRoot
            .appendingPathComponent("Tools", isDirectory: true)
            .appendingPathComponent("QEMUPlugins", isDirectory: true)
            .appendingPathComponent("instruction_counter.c", isDirectory: false)
    }

    /// Compiles `source` into `directory/instruction_counter-<hash>.so`, where the
    /// hash covers the source bytes and compiler flags. Does nothing if that file
    /// already exists, so repeated calls are cheap. Safe to call concurrently: each
    /// compile writes a private temporary file and renames it into place.
    public static func build(source: URL, into directory: URL) throws -> InstructionCounterPlugin {
        guard let contents = FileManager.default.contents(atPath: source.path) else {
            throw InstructionCounterError.sourceNotFound(path: source.path)
        }
        var key = contents
        key.append(contentsOf: Array(compilerFlags.joined(separator: " ").utf8))
        let name = "instruction_counter-\(fnv1a64Hex(key)).so"
        let library = directory.appendingPathComponent(name, isDirectory: false)
        if FileManager.default.fileExists(atPath: library.path) {
            return InstructionCounterPlugin(library: library)
        }

        let compiler = try findCompiler()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(
            ".\(name).\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString).tmp",
            isDirectory: false)
        defer { try? FileManager.default.removeItem(at: temporary) }

        let process = Process()
        process.executableURL = compiler
        process.arguments = compilerFlags + ["-o", temporary.path, source.path]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = stderr
        do {
            try process.run()
        } catch {
            throw InstructionCounterError.compileFailed(
                compiler: compiler.path, status: -1, stderr: "\(error)")
        }
        // Drain the pipe before waiting so a chatty compiler cannot block on a full pipe.
        let output = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw InstructionCounterError.compileFailed(
                compiler: compiler.path, status: process.terminationStatus,
                stderr: String(decoding: output, as: UTF8.self))
        }

        do {
            try FileManager.default.moveItem(at: temporary, to: library)
        } catch {
            // A concurrent build of the same source won the race: use its file.
            guard FileManager.default.fileExists(atPath: library.path) else { throw error }
        }
        return InstructionCounterPlugin(library: library)
    }

    /// The `-plugin` arguments that load this plugin, counting from the instruction
    /// at `start` (included) up to the instruction at `stop` (excluded), and writing
    /// the result to `output` when QEMU exits. Thumb bit 0 may be set or clear.
    public func qemuArguments(start: UInt32, stop: UInt32, output: URL) -> [String] {
        qemuArguments(starts: [start], stop: stop, output: output)
    }

    /// The same with several instructions that open a window (at most four): a marker and,
    /// say, an interrupt handler's first instruction.
    /// `watchMasking`: the plugin also reports the longest masked section (nesting counted),
    /// finding the masking instructions by their encoding (the kernel's masking is inline).
    /// `maskingFrom`: masked sections count only from the first time that instruction runs.
    /// `entries`: exception handlers' first instructions; each run of one inside a window is
    /// counted as an exception taken (`InstructionCount.entries`).
    public func qemuArguments(starts: [UInt32], stop: UInt32, output: URL, watchMasking: Bool = false,
                              maskingFrom: UInt32? = nil, entries: [UInt32] = []) -> [String] {
        let options = [Self.escapeOption(library.path)]
            + starts.map { "start=0x" + String($0, radix: 16) }
            + entries.map { "entry=0x" + String($0, radix: 16) }
            + ["stop=0x" + String(stop, radix: 16)]
            + (watchMasking ? ["masking=1"] : [])
            + (maskingFrom.map { ["mask_from=0x" + String($0, radix: 16)] } ?? [])
            + ["out=" + Self.escapeOption(output.path)]
        return ["-plugin", options.joined(separator: ",")]
    }

    /// QEMU option values escape a literal comma by doubling it.
    static func escapeOption(_ value: String) -> String {
        value.replacingOccurrences(of: ",", with: ",,")
    }

    /// The first of `$CC`, then `cc`, `gcc`, `clang` that is an executable on `PATH`.
    static func findCompiler() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        var names = compilerNames
        if let cc = environment["CC"], !cc.isEmpty {
            if cc.contains("/") {
                if FileManager.default.isExecutableFile(atPath: cc) { return URL(fileURLWithPath: cc) }
            } else {
                names.insert(cc, at: 0)
            }
        }
        for name in names {
            for directory in directories where !directory.isEmpty {
                let candidate = URL(fileURLWithPath: directory).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
        }
        throw InstructionCounterError.noCompiler(searched: names)
    }

    /// 64-bit FNV-1a as 16 lowercase hex digits: a stable cache key, not a security hash.
    static func fnv1a64Hex(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    // MARK: Result

    /// What the plugin wrote at exit.
    public struct InstructionCount: Sendable, Equatable {
        /// How many start→stop windows closed (0 if the markers never ran).
        public var windows: Int
        /// Instructions executed inside all closed windows: from each start
        /// instruction (included) to the following stop instruction (excluded).
        public var counted: UInt64
        /// Every guest instruction executed during the run.
        public var total: UInt64
        /// Each closed window's count, in the order they closed (the plugin keeps the
        /// first 4096); empty when the plugin did not write them.
        public var each: [UInt64]
        /// The longest masked section and how many there were (only when masks were given).
        public var longestMasked: UInt64? = nil
        public var maskedSections: UInt64? = nil
        /// Exception handlers entered inside the windows (only when entries were given).
        public var entries: UInt64? = nil

        public init(windows: Int, counted: UInt64, total: UInt64, each: [UInt64] = []) {
            self.windows = windows
            self.counted = counted
            self.total = total
            self.each = each
        }

        /// Parses `windows=N counted=N total=N each=N,N,...` (whitespace-separated
        /// `key=value` pairs in any order; unknown keys are ignored, missing ones throw;
        /// `each` is optional and may be empty).
        public static func parse(_ text: String) throws -> InstructionCount {
            var values: [Substring: UInt64] = [:]
            var each: [UInt64] = []
            for field in text.split(whereSeparator: { $0.isWhitespace }) {
                guard let equals = field.firstIndex(of: "=") else { throw InstructionCounterError.malformedOutput(text) }
                let key = field[..<equals], value = field[field.index(after: equals)...]
                if key == "each" {
                    let items = value.split(separator: ",").map { UInt64($0) }
                    guard items.allSatisfy({ $0 != nil }) else { throw InstructionCounterError.malformedOutput(text) }
                    each = items.compactMap { $0 }
                    continue
                }
                guard let number = UInt64(value) else { throw InstructionCounterError.malformedOutput(text) }
                values[key] = number
            }
            guard let windows = values["windows"], let counted = values["counted"],
                  let total = values["total"], let windowCount = Int(exactly: windows)
            else { throw InstructionCounterError.malformedOutput(text) }
            var count = InstructionCount(windows: windowCount, counted: counted, total: total, each: each)
            count.longestMasked = values["longest_masked"]
            count.maskedSections = values["masked_sections"]
            count.entries = values["entries"]
            return count
        }

        /// Reads and parses the plugin's output file.
        public static func read(from file: URL) throws -> InstructionCount {
            let data: Data
            do {
                data = try Data(contentsOf: file)
            } catch {
                throw InstructionCounterError.outputUnreadable(
                    path: file.path, reason: error.localizedDescription)
            }
            return try parse(String(decoding: data, as: UTF8.self))
        }
    }
}

/// Top-level spelling of `InstructionCounterPlugin.InstructionCount`.
public typealias InstructionCount = InstructionCounterPlugin.InstructionCount
