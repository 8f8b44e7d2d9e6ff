// Which split-stack prologue a checked function starts with, and so where it compared SP.
//
// The slack proof (UncheckedChains.swift) needs to know how far below the limit a function's
// own frame can lie once its check passed. Two forms are linked into Keel's images:
//
//   push first     `push {r4, r5}`, the limit into r4, r5 = SP (or SP minus the frame),
//                  `cmp r4, r5`: LLVM's Thumb-1 prologue (the M0, every Thumb-1 route) and its
//                  Thumb-2 large-frame form, whose TLS read SplitPrologueRewrite.swift replaced.
//                  A small frame was compared at the entry SP minus 8.
//   scratch        `ldr.w ip, [pc, #…]` (or `movw ip; movt ip`), `ldr.w ip, [ip]`, `cmp ip, sp`:
//                  the Thumb-2 small-frame form SplitPrologueRewrite.swift makes. Nothing is
//                  pushed before the compare: the entry SP itself was compared.
//
// A function that calls `__morestack` but starts with neither is counted as compared at its
// entry SP, the form that leaves the most of its frame below the limit.

public enum SplitPrologue: Sendable, Equatable {
    case pushFirst
    case scratch

    /// How far below the function's entry SP the compare saw SP (frames under 256 bytes).
    public var comparedBelowEntry: UInt32 {
        switch self {
        case .pushFirst: 8
        case .scratch: 0
        }
    }

    /// The form the function whose first halfwords are `code` starts with, nil for neither.
    public static func recognise(_ code: [UInt16]) -> SplitPrologue? {
        func at(_ index: Int) -> UInt16? { index < code.count ? code[index] : nil }
        if at(0) == pushR4R5 { return .pushFirst }
        var next: Int
        if let first = at(0), let second = at(1), first & 0xFF7F == 0xF85F, second >> 12 == ip {
            next = 2   // LDR.W ip, [pc, #±imm12] (T2 literal)
        } else if let low = at(0), let lowOperand = at(1), let high = at(2), let highOperand = at(3),
                  low & 0xFBF0 == 0xF240, (lowOperand >> 8) & 0xF == ip, lowOperand & 0x8000 == 0,
                  high & 0xFBF0 == 0xF2C0, (highOperand >> 8) & 0xF == ip, highOperand & 0x8000 == 0 {
            next = 4   // MOVW ip / MOVT ip
        } else {
            return nil
        }
        guard at(next) == loadIPFromIP.0, at(next + 1) == loadIPFromIP.1, at(next + 2) == compareIPWithSP else { return nil }
        return .scratch
    }

    static let ip: UInt16 = 12
    /// PUSH {r4, r5} (T1).
    static let pushR4R5: UInt16 = 0xB430
    /// LDR.W ip, [ip] (T3, imm12 = 0).
    static let loadIPFromIP: (UInt16, UInt16) = (0xF8DC, 0xC000)
    /// CMP ip, sp (T2: 0100 0101 N Rm Rn3 with N:Rn = 12, Rm = 13).
    static let compareIPWithSP: UInt16 = 0x45EC
}
