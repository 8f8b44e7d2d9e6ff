// Code addresses to source lines: function, file:line, the inlined chain, a trap's reason.
//
// Why llvm-symbolizer (shipped beside swiftc) and not a DWARF reader of our own: the answer
// needs the line table *and* the inlined-subroutine tree (a trap is an artificial inlined frame
// named `Swift runtime failure: <reason>`, inside the function that traps, itself perhaps
// inlined into its caller); the tool reads both exactly as the compiler wrote them, for one
// process per batch of addresses (a fault's PC and its backtrace together). Swift names come
// back mangled and go through swift-demangle, one process per batch too.

import Foundation

/// One source frame of an address: innermost first, so an inlined function comes before the
/// function it was inlined into.
public struct SourceFrame: Sendable, Equatable, Codable {
    public var function: String
    /// The file's name without its folder, nil when the compiler generated the code.
    public var file: String?
    public var line: Int?
    /// True when the file is the kernel's (Firmware/Kernel): a Keel call inlined into the
    /// application (`@inlinable` fast paths) shows as kernel frames inside the caller's.
    public var inKernel: Bool?

    public init(function: String, file: String?, line: Int?, inKernel: Bool? = nil) {
        self.function = function; self.file = file; self.line = line; self.inKernel = inKernel
    }

    /// "average(total:count:) at Traps.swift:15"
    public var description: String {
        guard let file, let line else { return function }
        return "\(function) at \(file):\(line)"
    }
}

/// Where an address is in the source, and why the code there traps, if it is a trap.
public struct SourceLocation: Sendable, Equatable, Codable {
    /// Innermost first; never the artificial trap frame (that is `trapReason`).
    public var frames: [SourceFrame]
    /// "Division by zero", "Index out of range", "precondition failure" …
    public var trapReason: String?
    /// For a trap, the text of its source line when the file is on this machine: the image
    /// keeps no precondition or fatalError message (Embedded Swift at -O drops them), the line does.
    public var trapLine: String?

    public init(frames: [SourceFrame], trapReason: String? = nil, trapLine: String? = nil) {
        self.frames = frames; self.trapReason = trapReason; self.trapLine = trapLine
    }
}

public struct SourceLocator: Sendable {
    public var tool: URL
    public var elf: URL
    public var demangler: URL?

    static let trapPrefix = "Swift runtime failure: "

    public init(tool: URL, elf: URL, demangler: URL?) {
        self.tool = tool; self.elf = elf; self.demangler = demangler
    }

    /// The locations of `addresses` (one llvm-symbolizer process); an address the debug info
    /// does not cover is missing from the result.
    public func locate(_ addresses: [UInt32]) -> [UInt32: SourceLocation] {
        let unique = Array(Set(addresses)).sorted()
        guard !unique.isEmpty,
              let result = try? Subprocess.run(tool, ["--obj=\(elf.path)", "--inlining", "--functions=linkage",
                                                      "--output-style=JSON"] + unique.map { "0x" + String($0, radix: 16) }),
              result.status == 0 else { return [:] }
        var raw: [UInt32: [(name: String, file: String, line: Int)]] = [:]
        // Addresses given as arguments come back as one JSON array (from stdin: an object a line).
        var objects: [[String: Any]] = []
        for line in result.output.split(separator: "\n") {
            let json = (try? JSONSerialization.jsonObject(with: Data(line.utf8)))
            if let array = json as? [[String: Any]] { objects += array } else if let object = json as? [String: Any] { objects.append(object) }
        }
        for object in objects {
            guard let addressText = object["Address"] as? String,
                  let address = UInt32(addressText.dropFirst(2), radix: 16),
                  let symbols = object["Symbol"] as? [[String: Any]] else { continue }
            raw[address] = symbols.map {
                (($0["FunctionName"] as? String) ?? "", ($0["FileName"] as? String) ?? "", ($0["Line"] as? Int) ?? 0)
            }
        }
        let names = Symbolizer.readableNames(Set(raw.values.flatMap { $0.map(\.name) }), demangler: demangler)
        var locations: [UInt32: SourceLocation] = [:]
        for (address, symbols) in raw {
            var location = SourceLocation(frames: [])
            var trapSource: (file: String, line: Int)? = nil
            // A frame the debug info names no function for (code of another module's
            // `@inlinable` function, or a closure, inlined): a kernel one lends its line to the
            // named frame that follows (the Keel call it is part of); an application one is
            // code of the function that encloses it, the outermost frame of its own file.
            var unnamedKernel: (file: String, line: Int)? = nil
            for (position, symbol) in symbols.enumerated() {
                if symbol.name.hasPrefix(Self.trapPrefix) {
                    location.trapReason = String(symbol.name.dropFirst(Self.trapPrefix.count))
                    continue
                }
                // An unnamed or compiler-generated frame (the standard library's inlined pieces)
                // says nothing a reader can open.
                var source: (file: String, line: Int)? =
                    symbol.file.isEmpty || symbol.file.hasPrefix("/<") || symbol.line == 0 ? nil : (symbol.file, symbol.line)
                var name = symbol.name
                if name.isEmpty {
                    guard let known = source else { continue }
                    if Self.isKernelSource(known.file) {
                        if unnamedKernel == nil { unnamedKernel = known }
                        continue
                    }
                    guard let enclosing = symbols[(position + 1)...].last(where: { $0.file == known.file && !$0.name.isEmpty }) else { continue }
                    name = enclosing.name
                }
                if source == nil { source = unnamedKernel }
                unnamedKernel = nil
                if location.trapReason != nil && trapSource == nil, let source { trapSource = source }
                location.frames.append(SourceFrame(function: names[name] ?? name,
                                                   file: source.map { URL(fileURLWithPath: $0.file).lastPathComponent },
                                                   line: source?.line,
                                                   inKernel: source.map { Self.isKernelSource($0.file) } == true ? true : nil))
            }
            if let trapSource { location.trapLine = Self.line(trapSource.line, of: trapSource.file) }
            if !location.frames.isEmpty || location.trapReason != nil { locations[address] = location }
        }
        return locations
    }

    /// Whether `path` is one of the kernel's sources.
    static func isKernelSource(_ path: String) -> Bool { path.contains("/Firmware/Kernel/") }

    /// Line `number` (from 1) of a source file, trimmed; nil when the file is not here.
    static func line(_ number: Int, of path: String) -> String? {
        guard number > 0, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard number <= lines.count else { return nil }
        let line = lines[number - 1].trimmingCharacters(in: .whitespaces)
        return line.isEmpty ? nil : line
    }
}
