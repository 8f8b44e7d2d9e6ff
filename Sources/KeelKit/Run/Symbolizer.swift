// Names a code address: the ELF symbol that contains it, demangled to the Swift name; and
// decodes a fault record's PC and stack words into source lines and a backtrace.

import Foundation

public struct Symbolizer: Sendable {
    let elf: ELFFile
    let demangler: URL?
    /// File:line and trap reasons; nil without llvm-symbolizer or without the image's path.
    let locator: SourceLocator?
    private let code = LazyCodeMap()

    public init(elf: ELFFile, demangler: URL?, sourceSymbolizer: URL? = nil, path: URL? = nil) {
        self.elf = elf
        self.demangler = demangler
        if let sourceSymbolizer, let path {
            locator = SourceLocator(tool: sourceSymbolizer, elf: path, demangler: demangler)
        } else {
            locator = nil
        }
    }

    /// The symbolizer for the image at `elf` with every tool the toolchain has (source lines
    /// and trap reasons need llvm-symbolizer); nil when the file is not an ELF image. The one
    /// way `keel run`, `keel decode` and `keel demo` make theirs, so they decode alike.
    public static func forImage(at elf: URL, toolchain: Toolchain?) -> Symbolizer? {
        (try? ELFFile(contentsOf: elf)).map { forImage($0, at: elf, toolchain: toolchain) }
    }

    /// The same for an image already read.
    public static func forImage(_ elf: ELFFile, at url: URL, toolchain: Toolchain?) -> Symbolizer {
        Symbolizer(elf: elf, demangler: toolchain?.demangler, sourceSymbolizer: toolchain?.sourceSymbolizer, path: url)
    }

    /// "Module.function(_:) + 0x12", or nil when no symbol contains the address.
    public func name(of address: UInt32) -> String? {
        guard address != 0, let symbol = elf.symbol(containing: address & ~1) else { return nil }
        let offset = (address & ~1) &- symbol.address
        let name = demangle(symbol.name)
        return offset == 0 ? name : "\(name) + 0x\(String(offset, radix: 16))"
    }

    /// Whether `address` lies in the image's code (an executable section).
    public func isCode(_ address: UInt32) -> Bool {
        let address = UInt64(address & ~1)
        return elf.sections.contains {
            $0.flags.contains(.execInstr) && $0.flags.contains(.alloc)
                && address >= UInt64($0.address) && address < UInt64($0.address) + UInt64($0.size)
        }
    }

    /// Fills in what the image says about a fault: the PC's function and source (with a trap's
    /// reason), whether the PC is code at all, and the backtrace walked from `evidence` (the
    /// task's stack words, when they are this task's). All source lines in one batch.
    public func decorate(_ fault: inout FaultRecord, evidence: StackWords?) {
        fault.function = name(of: fault.pc)
        fault.pcOutsideCode = fault.pc != 0 && !isCode(fault.pc)
        var frames: [BacktraceFrame] = []
        var thunk: BacktraceFrame? = nil
        if let evidence, evidence.task == fault.task, let map = code.map(elf) {
            let walk = StackWalk.walk(pc: fault.pc, evidence: evidence, code: map, frameMayBeAtSP: !fault.stackingFailed)
            frames = walk.frames
            fault.backtraceEnding = walk.ending
            fault.stackWordBytes = evidence.words.count * 4
            thunk = frames.last.flatMap { map.function(containing: $0.address)?.name.hasPrefix(TaskTableGenerator.entryPrefix) == true ? $0 : nil }
        }
        let pc = fault.pc & ~1
        let addresses = (fault.pc != 0 && !fault.pcOutsideCode ? [pc] : []) + frames.map(\.lookupAddress)
        let locations = locator?.locate(addresses) ?? [:]
        // The generated thunk that calls a task's entry is Keel's, not the application's, unless
        // the compiler inlined the task's code into it: then the frame is the task's call.
        if let thunk, locations[thunk.lookupAddress]?.frames.contains(where: { $0.file.map { !Self.generatedFiles.contains($0) } ?? false }) != true {
            frames.removeLast()
            fault.backtraceEnding = .taskEntry
        }
        if fault.pc != 0 { fault.location = locations[pc] }
        fault.backtrace = frames.map { frame in
            let location = locations[frame.lookupAddress]
            return DecodedFrame(frame: frame, location: location,
                                symbol: location == nil ? name(of: frame.lookupAddress) : nil)
        }
        // A Keel call's own check failed: the application's line that called it. Either the
        // call was inlined (kernel frames first in the PC's own chain, the caller after them)
        // or the PC is in the kernel's code (the caller is the first application frame below).
        let isApplicationFrame = { (frame: SourceFrame) in frame.inKernel != true && frame.file.map { !Self.generatedFiles.contains($0) } ?? false }
        if fault.pc != 0, let chain = fault.location?.frames, chain.first(where: { $0.file != nil })?.inKernel == true {
            fault.applicationCaller = chain.first(where: isApplicationFrame)
        }
        if fault.applicationCaller == nil, fault.pc != 0, isKernel(fault.pc) {
            fault.applicationCaller = zip(frames, fault.backtrace).first { !isKernel($0.0.lookupAddress) }?.1.location?.frames
                .first(where: isApplicationFrame)
        }
    }

    /// Whether `address` is in a function of the kernel's module (Swift-mangled as `Keel`).
    func isKernel(_ address: UInt32) -> Bool {
        guard let symbol = elf.symbol(containing: address & ~1) else { return false }
        return symbol.name.hasPrefix("$e4Keel") || symbol.name.hasPrefix("$s4Keel")
    }

    /// `record` as `keel run` shows it: a fault decorated with the stack words printed just
    /// before it (`evidence`, which this keeps from a `keel:stack-words` record to the fault
    /// record that follows it). The one place a console stream's faults are decoded.
    public func decorate(_ record: ConsoleRecord, evidence: inout StackWords?) -> ConsoleRecord {
        switch record {
        case .stackWords(let words):
            evidence = words
            return record
        case .fault(var fault):
            decorate(&fault, evidence: evidence)
            evidence = nil
            return .fault(fault)
        case .previousBoot(var fault):
            decorate(&fault, evidence: nil)
            return .previousBoot(fault)
        default:
            return record
        }
    }

    /// `records` as `keel run` shows them (for records collected without a symbolizer, as the
    /// tests' runs are).
    public func decorate(_ records: [ConsoleRecord]) -> [ConsoleRecord] {
        var evidence: StackWords? = nil
        return records.map { decorate($0, evidence: &evidence) }
    }

    static let generatedFiles = Set(FirmwareBuilder.generatedFileNames)

    /// Swift symbols start with `$e`/`$s` (Embedded / full Swift mangling); C names do not.
    static func isSwiftMangled(_ name: String) -> Bool { name.hasPrefix("$e") || name.hasPrefix("$s") }

    func demangle(_ symbol: String) -> String {
        Self.readableNames([symbol], demangler: demangler)[symbol] ?? symbol
    }

    /// Readable names for linkage names: Swift ones through swift-demangle, all in one process;
    /// a `.cold.N` part (code the compiler moved out of line) is named by its function; a name
    /// the demangler cannot read stays as it is.
    static func readableNames(_ names: Set<String>, demangler: URL?) -> [String: String] {
        var readable: [String: String] = [:]
        var swift: [(name: String, base: String)] = []
        for name in names {
            let base = name.range(of: ".cold.").map { String(name[..<$0.lowerBound]) } ?? name
            if isSwiftMangled(base) { swift.append((name, base)) } else { readable[name] = base }
        }
        guard !swift.isEmpty else { return readable }
        var lines: [String] = []
        if let demangler, let result = try? Subprocess.run(demangler, ["--simplified", "--compact"] + swift.map(\.base)), result.status == 0 {
            lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        for (index, entry) in swift.enumerated() {
            readable[entry.name] = index < lines.count && !lines[index].isEmpty ? lines[index] : entry.base
        }
        return readable
    }
}

/// The image's code map, built at the first fault that needs it (reading the call graph
/// takes a moment; most runs have no fault).
private final class LazyCodeMap: @unchecked Sendable {
    private let lock = NSLock()
    private var built: CodeMap??

    func map(_ elf: ELFFile) -> CodeMap? {
        lock.withLock {
            if let built { return built }
            let map = (try? CallGraph(elf: elf)).map { CodeMap(graph: $0) }
            built = .some(map)
            return map
        }
    }
}
