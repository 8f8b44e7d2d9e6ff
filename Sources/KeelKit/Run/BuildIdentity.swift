// The build ID every image carries, and the check each decoder makes before it decodes.
//
// `keel build` hashes everything that goes into an image (the fingerprint that decides a
// rebuild: sources, generated tables, linker script, flags, toolchain) and the linker script
// places those 64 bits at `keel_build_id`, in flash right after the vector table (so at the
// same address in every image of a board). The kernel prints them at boot
// (`keel:boot id=<16 hex digits>`); the host reads them from the ELF, and `keel top` from the
// target's memory. Two images with the same ID were built from the same inputs.

import Foundation

public struct BuildIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The linker-script symbol of the two words (low word first, as a little-endian UInt64).
    public static let symbol = "keel_build_id"
    public static let byteCount = 8

    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// 16 lowercase hex digits, as the kernel prints them.
    public var description: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// From the boot line's `id=` field: exactly 16 hex digits.
    public init?(parsing text: some StringProtocol) {
        guard text.count == 16, text.allSatisfy(\.isHexDigit), let value = UInt64(text, radix: 16) else { return nil }
        self.value = value
    }

    /// From the image's bytes at `keel_build_id` (little-endian); nil when the image has none.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        value = bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The image's build ID; nil for an image without one (built before images carried it).
    public init?(elf: ELFFile) {
        guard let address = elf.address(ofSymbol: Self.symbol),
              let bytes = elf.loadedBytes(at: address, count: Self.byteCount) else { return nil }
        self.init(bytes: bytes)
    }

    /// Refuses to decode what one build wrote with another build's image, at a boot line:
    /// `booted` is the ID it printed (nil: a kernel from before images carried one), `image`
    /// the ELF's (nil: the same). Different IDs, or one side without, are different builds.
    /// `source` starts the message: what said `booted`, with its verb.
    public static func check(booted: BuildIdentity?, image: BuildIdentity?, elf: URL, source: String = "the console comes from") throws(KeelError) {
        guard booted != image else { return }
        func name(_ identity: BuildIdentity?) -> String { identity.map { "build \($0)" } ?? "a build without an ID (an older keel)" }
        throw .imageMismatch("\(source) \(name(booted)), but \(elf.path) is \(name(image)): "
            + "decode it with the ELF of the build that ran (was the application rebuilt since?)")
    }
}
