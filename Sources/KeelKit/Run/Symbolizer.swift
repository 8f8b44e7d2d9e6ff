// Names a code address: the ELF symbol that contains it, demangled to the Swift name.

import Foundation

public struct Symbolizer: Sendable {
    let elf: ELFFile
    let demangler: URL?

    public init(elf: ELFFile, demangler: URL?) {
        self.elf = elf
        self.demangler = demangler
    }

    /// "Module.function(_:) + 0x12", or nil when no symbol contains the address.
    public func name(of address: UInt32) -> String? {
        guard address != 0, let symbol = elf.symbol(containing: address & ~1) else { return nil }
        let offset = (address & ~1) &- symbol.address
        let name = demangle(symbol.name)
        return offset == 0 ? name : "\(name) + 0x\(String(offset, radix: 16))"
    }

    /// Swift symbols start with `$e`/`$s` (Embedded / full Swift mangling); C names do not.
    static func isSwiftMangled(_ name: String) -> Bool { name.hasPrefix("$e") || name.hasPrefix("$s") }

    func demangle(_ symbol: String) -> String {
        guard Self.isSwiftMangled(symbol), let demangler,
              let result = try? Subprocess.run(demangler, ["--simplified", "--compact", symbol]), result.status == 0 else {
            return symbol
        }
        let text = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? symbol : text
    }
}
