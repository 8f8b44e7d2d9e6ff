// How long the kernel keeps interrupts masked, and what that does to an interrupt above its
// ceiling, per board:
// - the longest masked section (instructions from a call into a masking routine to the
//   restore that ends the outermost section, nesting counted) over whole runs of the demo and
//   of bench-ipc, which use every service, the tick and the log;
// - the latency of a zero-latency interrupt (instructions from its pend to its handler's first
//   instruction) pended inside the kernel's kind of section (BASEPRI) and inside a PRIMASK one
//   doing the same work: under BASEPRI it must not depend on what the section does;
// - the longest masked section while the `shell` example echoes 40 lines typed into it, from
//   its task's first instruction on (the boot line is sent before the kernel runs): lines of
//   2 bytes and of 75 bytes through the interrupt-driven console's ring, and 75-byte lines
//   with the ring off ("console": {"output": 0}: each line polled, masked, as before the
//   ring). Through the ring the figure must not grow with the line, and stay below the
//   kernel's own longest section.

import Foundation

public struct MaskingCost: Sendable, Codable, Equatable {
    public var board: String
    /// "BASEPRI at 0x40" or "PRIMASK".
    public var mechanism: String
    public var longestMaskedSection: UInt64
    public var maskedSections: UInt64
    /// Zero-latency interrupt latency pended inside the kernel's masking, and inside PRIMASK
    /// (nil on ARMv6-M: no zero-latency interrupts).
    public var latencyUnderKernelMask: UInt64?
    public var latencyUnderPRIMASK: UInt64?
    /// The console's longest masked section (nil where the UART has no transmit interrupt).
    public var console: ConsoleMasking?
}

/// The longest masked section while the shell echoes 40 lines, from its task's start.
public struct ConsoleMasking: Sendable, Codable, Equatable {
    /// Through the transmit ring, 2-byte lines.
    public var ringShortLines: UInt64
    /// Through the transmit ring, 75-byte lines.
    public var ringLongLines: UInt64
    /// With the ring off (each line polled, interrupts masked), 75-byte lines.
    public var polledLongLines: UInt64
}

public struct MaskingBench: Sendable {
    public var bench: ContextSwitchBench
    public init(bench: ContextSwitchBench) { self.bench = bench }

    public func measure(on board: Board) throws(KeelError) -> MaskingCost {
        var longest: UInt64 = 0, sections: UInt64 = 0
        for name in ["demo", "bench-ipc"] {
            let image = try bench.builder.build(try ContextSwitchBench.example(name, board: board), for: board)
            let count = try run(image, starts: [], stop: nil)
            longest = max(longest, count.longestMasked ?? 0)
            sections += count.maskedSections ?? 0
        }
        var underKernel: UInt64? = nil, underPRIMASK: UInt64? = nil
        if board.architecture != .armv6m {
            let image = try bench.builder.build(try ContextSwitchBench.example("bench-latency", board: board), for: board)
            let elf = try Self.elf(image)
            guard let start = elf.address(ofSymbol: "keel_bench_start"), let handler = elf.address(ofSymbol: "keel_zero_latency_9") else {
                throw .runFailed("\(image.elf.path) has no keel_bench_start or keel_zero_latency_9")
            }
            let count = try run(image, starts: [start], stop: handler)
            guard count.each.count == 2 else { throw .runFailed("bench-latency: expected two windows, got \(count.each)") }
            underKernel = count.each[0]
            underPRIMASK = count.each[1]
        }
        return MaskingCost(board: board.name, mechanism: board.architecture == .armv6m ? "PRIMASK" : "BASEPRI at 0x40",
                           longestMaskedSection: longest, maskedSections: sections,
                           latencyUnderKernelMask: underKernel, latencyUnderPRIMASK: underPRIMASK,
                           console: board.console.transmitInterrupt ? try measureConsole(on: board) : nil)
    }

    /// The shell, echoing 40 typed lines of each length, with and without the ring.
    func measureConsole(on board: Board) throws(KeelError) -> ConsoleMasking {
        let shell = try ContextSwitchBench.example("shell", board: board)
        var polled = shell
        polled.name += "-polled"
        polled.console.outputBytes = 0
        func longest(_ application: Application, echoing text: String) throws(KeelError) -> UInt64 {
            let image = try bench.builder.buildChecked(application, for: board, mode: .off).image
            guard let entry = try Self.elf(image).address(ofSymbol: "keel_entry_shell") else {
                throw .runFailed("\(image.elf.path) has no keel_entry_shell")
            }
            let typed = String(repeating: "echo \(text)\n", count: 40) + "exit 0\n"
            let count = try run(image, starts: [], stop: nil, maskingFrom: entry, input: Data(typed.utf8))
            return count.longestMasked ?? 0
        }
        let short = "x", long = String(repeating: "0123456789", count: 8).prefix(74)
        return ConsoleMasking(ringShortLines: try longest(shell, echoing: short),
                              ringLongLines: try longest(shell, echoing: String(long)),
                              polledLongLines: try longest(polled, echoing: String(long)))
    }

    static func elf(_ image: FirmwareImage) throws(KeelError) -> ELFFile {
        do { return try ELFFile(contentsOf: image.elf) } catch { throw .elf(error.description) }
    }

    /// One run under the counter with the masking instructions watched.
    func run(_ image: FirmwareImage, starts: [UInt32], stop: UInt32?, maskingFrom: UInt32? = nil,
             input: Data? = nil) throws(KeelError) -> InstructionCount {
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("keel-mask-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: output) }
        let arguments = bench.plugin.qemuArguments(starts: starts, stop: stop ?? 0, output: output, watchMasking: true, maskingFrom: maskingFrom)
        var options = RunOptions(timeoutSeconds: 120, extraArguments: arguments)
        if let input { options.input = .bytes(input) }
        let result = try bench.runner.run(image, options: options)
        guard result.exitCode == 0 else {
            throw .runFailed("\(image.application.name) on \(image.board.name) did not finish cleanly: \(result.qemuErrors)")
        }
        do { return try InstructionCount.read(from: output) } catch { throw .runFailed("instruction counter: \(error)") }
    }
}
