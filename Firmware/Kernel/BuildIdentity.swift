// The image's build ID, which the boot line prints so the host can tell which build it reads.
//
// `keel build` writes a hash of everything that went into the image as two words at the
// linker-script symbol `keel_build_id` (low word first), in flash after the vector table.
// A log record holds addresses in the image that wrote it; the host decodes it only with
// the ELF whose ID the boot line named (Sources/KeelKit/Run/BuildIdentity.swift).

@_extern(c, "keel_build_id") func buildIdentityWords()

enum BuildIdentity {
    /// Prints the ID as 16 hex digits, high word first (the order the host parses).
    static func write() {
        let address = linkerSymbol(buildIdentityWords)
        Console.write(hexDigits: Memory.loadWord(address &+ 4))
        Console.write(hexDigits: Memory.loadWord(address))
    }
}
