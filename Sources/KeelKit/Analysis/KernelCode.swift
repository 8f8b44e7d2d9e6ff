// Which functions of a linked image are the kernel's, from their symbols alone.
//
// Why: the application's functions and the kernel's are told apart by the analysis in two
// places, the interrupt handlers (only the application attaches any, so a kernel function
// whose address is taken is never one) and the blocking calls from a handler (reported where
// the application calls into the kernel). The kernel is the `Keel` module: its Swift symbols
// (specialisations of its generics are mangled in its context too), its C names (`keel_`),
// and the compiler's specialised copies of those (`$e9keel_waitTf4nnnnd_n`: the C name is the
// first word of the mangling). The generated task entries (`keel_entry_`) count as the
// kernel's: the application's code starts below them.

public enum KernelCode {
    public static func contains(symbol: String) -> Bool {
        if symbol.hasPrefix("keel_") { return true }
        guard symbol.hasPrefix("$e") || symbol.hasPrefix("$s") else { return false }
        let mangled = symbol.dropFirst(2)
        let digits = mangled.prefix { $0.isASCII && $0.isNumber }
        guard let length = Int(digits), length > 0 else { return false }
        let word = mangled.dropFirst(digits.count).prefix(length)
        return word == "Keel" || word.hasPrefix("keel_")
    }

    /// The C names among `symbols` that the kernel exports from a Swift function of the same
    /// name (`@_cdecl("memmove") func memmove` in Runtime/: the image holds `memmove` and
    /// `$e4Keel7memmove…`). Told apart by the image, not by a list: the C library and
    /// compiler-runtime entry points the kernel provides are never the application's handlers,
    /// even when a constant of the application happens to equal one's address (a sort
    /// benchmark's seed, 12345, is `memmove`'s Thumb address in one micro:bit image).
    public static func exportedCNames(_ symbols: [String]) -> Set<String> {
        let names = Set(symbols)
        var exported = Set<String>()
        for symbol in symbols where symbol.hasPrefix("$e4Keel") || symbol.hasPrefix("$s4Keel") {
            let rest = symbol.dropFirst(7)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard let length = Int(digits), length > 0 else { continue }
            let word = String(rest.dropFirst(digits.count).prefix(length))
            if names.contains(word) { exported.insert(word) }
        }
        return exported
    }
}
