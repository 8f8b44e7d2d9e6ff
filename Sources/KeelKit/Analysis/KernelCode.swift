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
}
