// Thumb instruction decoder: just enough of Thumb-1 and Thumb-2 to find calls, branches and stack moves.
//
// Why: the call graph comes from the linked image, not the source, so tail calls the
// optimiser made, branches into `.cold` parts and calls into assembly or libgcc are all
// seen. The stack analysis needs only a few things from each instruction: its length,
// whether it calls or branches and where, whether it jumps through a register, and how it
// moves SP. Everything else is `.other`. Encodings follow the ARMv7-M Architecture
// Reference Manual (A5.2 16-bit, A5.3 32-bit; A7.7 for each instruction); ARMv6-M and
// ARMv8-M use the same encodings for everything decoded here.

/// What one instruction means to the stack analysis.
public enum ThumbInstruction: Sendable, Equatable {
    /// `bl label`: a call; the return address goes in LR.
    case call(target: UInt32)
    /// `b label`, `b<c> label`, `b.w`: stays in the function or, to another function, a tail call.
    case branch(target: UInt32, conditional: Bool)
    /// `cbz`/`cbnz`: always inside the function.
    case compareBranch(target: UInt32)
    /// `blx rN`: a call through a register.
    case indirectCall(register: UInt8)
    /// `bx rN` (N ≠ LR), `mov pc, rN`, `ldr pc, [...]`: a jump through a register.
    case indirectBranch(register: UInt8)
    /// `tbb`/`tbh`, `add pc, rN`: a jump table inside the function.
    case jumpTable
    /// `bx lr`, `pop {..., pc}`, `ldr pc, [sp], #4`: back to the caller.
    case functionReturn
    /// `push`, `stmdb sp!`, `str rN, [sp, #-4]!`, `vpush`, `sub sp, #n`: SP goes down by `bytes`.
    case stackDown(bytes: UInt32)
    /// `pop` without PC, `add sp, #n`: SP goes up by `bytes`.
    case stackUp(bytes: UInt32)
    /// SP set from a register (`mov sp, rN`, `add sp, rN`, `sub sp, sp, rN`): a frame whose
    /// size the code computes, or a switch to another stack.
    case stackFromRegister
    /// `svc #n`: an exception entry from thread mode.
    case supervisorCall
    /// `movw rD, #imm16` (`top` false) or `movt rD, #imm16` (`top` true): half of a 32-bit
    /// constant, which may be a function's address (Thumb-2 builds take addresses this way).
    case moveHalf(register: UInt8, value: UInt16, top: Bool)
    case other

    /// Decodes the instruction at `address` whose first halfword is `first` (and second
    /// `second`, for 32-bit encodings). Returns the meaning and the length in bytes.
    public static func decode(_ first: UInt16, _ second: UInt16?, at address: UInt32) -> (ThumbInstruction, UInt32) {
        if isWide(first) {
            guard let second else { return (.other, 2) }   // cut off at the end of the code
            return (decodeWide(first, second, at: address), 4)
        }
        return (decodeNarrow(first, at: address), 2)
    }

    /// A 32-bit Thumb-2 instruction starts with 0b11101, 0b11110 or 0b11111 (A5.1).
    public static func isWide(_ first: UInt16) -> Bool { first >> 11 >= 0b11101 }

    /// True for a 32-bit instruction in the coprocessor space, first halfword 111x 11xx
    /// (ARMv7-M A5.3.18, ARMv8-M C2.4.8): every VFP instruction (coprocessors 10 and 11: the
    /// arithmetic, VLDR/VSTR/VPUSH/VPOP, VMOV between core and FP registers, VMRS/VMSR) and
    /// every M-profile vector (MVE) instruction. One of them sets CONTROL.FPCA: from then on
    /// every exception taken from that context stacks an extended frame.
    public static func isFloatingPoint(_ first: UInt16) -> Bool { first & 0xEC00 == 0xEC00 }

    /// `MSR BASEPRI_MAX, Rn` (T1: F38n 88 12): how the kernel enters its critical section on
    /// ARMv7-M and ARMv8-M Mainline, inline wherever a Keel call is.
    public static func isMaskAtCeiling(_ first: UInt16, _ second: UInt16) -> Bool {
        first & 0xFFF0 == 0xF380 && second == 0x8812
    }

    // MARK: 16-bit (A5.2)

    static func decodeNarrow(_ h: UInt16, at address: UInt32) -> ThumbInstruction {
        let pc = address &+ 4
        // B<c> T1: 1101 cond imm8 (cond 1110 is UDF, 1111 is SVC).
        if h & 0xF000 == 0xD000 {
            let cond = (h >> 8) & 0xF
            if cond == 0xF { return .supervisorCall }
            if cond == 0xE { return .other }
            return .branch(target: pc &+ signExtend(UInt32(h & 0xFF) << 1, bits: 9), conditional: true)
        }
        // B T2: 11100 imm11.
        if h & 0xF800 == 0xE000 {
            return .branch(target: pc &+ signExtend(UInt32(h & 0x7FF) << 1, bits: 12), conditional: false)
        }
        // CBZ/CBNZ: 1011 o0i1 imm5 Rn.
        if h & 0xF500 == 0xB100 {
            let offset = (UInt32(h >> 9) & 1) << 6 | (UInt32(h >> 3) & 0x1F) << 1
            return .compareBranch(target: pc &+ offset)
        }
        // BX / BLX register: 0100 0111 L Rm 000.
        if h & 0xFF07 == 0x4700 {
            let register = UInt8((h >> 3) & 0xF)
            if h & 0x80 != 0 { return .indirectCall(register: register) }
            return register == 14 ? .functionReturn : .indirectBranch(register: register)
        }
        // MOV (register, high) T1: 0100 0110 D Rm Rd3 — to PC is a jump, to SP a stack switch.
        if h & 0xFF00 == 0x4600 {
            let destination = (h >> 4) & 0x8 | h & 0x7
            let source = UInt8((h >> 3) & 0xF)
            if destination == 15 { return source == 14 ? .functionReturn : .indirectBranch(register: source) }
            if destination == 13 { return .stackFromRegister }
            return .other
        }
        // ADD (register, high) T2: 0100 0100 DN Rm Rdn3 — to PC is a jump table, to SP a computed frame.
        if h & 0xFF00 == 0x4400 {
            let destination = (h >> 4) & 0x8 | h & 0x7
            if destination == 15 { return .jumpTable }
            if destination == 13 { return .stackFromRegister }
            return .other
        }
        // PUSH T1: 1011 010M rlist (M = LR).
        if h & 0xFE00 == 0xB400 {
            return .stackDown(bytes: 4 * UInt32((h & 0xFF).nonzeroBitCount + Int((h >> 8) & 1)))
        }
        // POP T1: 1011 110P rlist (P = PC).
        if h & 0xFE00 == 0xBC00 {
            if h & 0x100 != 0 { return .functionReturn }
            return .stackUp(bytes: 4 * UInt32((h & 0xFF).nonzeroBitCount))
        }
        // SUB SP, SP, #imm7*4 / ADD SP, SP, #imm7*4: 1011 0000 S imm7.
        if h & 0xFF80 == 0xB080 { return .stackDown(bytes: UInt32(h & 0x7F) * 4) }
        if h & 0xFF80 == 0xB000 { return .stackUp(bytes: UInt32(h & 0x7F) * 4) }
        return .other
    }

    // MARK: 32-bit (A5.3)

    static func decodeWide(_ h1: UInt16, _ h2: UInt16, at address: UInt32) -> ThumbInstruction {
        let pc = address &+ 4
        // Branches and miscellaneous control: 11110 xxxxxxxxxxx / 1xxx...
        if h1 & 0xF800 == 0xF000 && h2 & 0x8000 != 0 {
            let s = UInt32(h1 >> 10) & 1
            let j1 = UInt32(h2 >> 13) & 1
            let j2 = UInt32(h2 >> 11) & 1
            switch h2 & 0x5000 {
            case 0x5000, 0x1000:   // BL T1 (op1 = 1x1) and B T4 (op1 = 0x1)
                let i1 = ~(j1 ^ s) & 1
                let i2 = ~(j2 ^ s) & 1
                let offset = s << 24 | i1 << 23 | i2 << 22 | UInt32(h1 & 0x3FF) << 12 | UInt32(h2 & 0x7FF) << 1
                let target = pc &+ signExtend(offset, bits: 25)
                return h2 & 0x4000 != 0 ? .call(target: target) : .branch(target: target, conditional: false)
            case 0x0000:           // B<c> T3 (op1 = 0x0), unless cond is 111x (MSR, MRS, hints...)
                let cond = (h1 >> 6) & 0xF
                guard cond < 0xE else { return .other }
                let offset = s << 20 | j2 << 19 | j1 << 18 | UInt32(h1 & 0x3F) << 12 | UInt32(h2 & 0x7FF) << 1
                return .branch(target: pc &+ signExtend(offset, bits: 21), conditional: true)
            default:
                return .other
            }
        }
        // MOVW / MOVT T3: 11110 i 10 x100 imm4 / 0 imm3 Rd imm8.
        if h1 & 0xFB70 == 0xF240 && h2 & 0x8000 == 0 {
            let value = (h1 & 0xF) << 12 | ((h1 >> 10) & 1) << 11 | ((h2 >> 12) & 7) << 8 | (h2 & 0xFF)
            return .moveHalf(register: UInt8((h2 >> 8) & 0xF), value: value, top: h1 & 0x0080 != 0)
        }
        // TBB/TBH: 1110 1000 1101 Rn / 1111 0000 000H Rm.
        if h1 & 0xFFF0 == 0xE8D0 && h2 & 0xFFE0 == 0xF000 { return .jumpTable }
        // PUSH.W = STMDB SP!, {list}: 1110 1001 0010 1101.
        if h1 == 0xE92D { return .stackDown(bytes: 4 * UInt32(h2.nonzeroBitCount)) }
        // POP.W = LDMIA SP!, {list}: 1110 1000 1011 1101.
        if h1 == 0xE8BD {
            if h2 & 0x8000 != 0 { return .functionReturn }
            return .stackUp(bytes: 4 * UInt32(h2.nonzeroBitCount))
        }
        // PUSH.W one register = STR Rt, [SP, #-4]!: 1111 1000 0100 1101 / Rt 1101 0000 0100.
        if h1 == 0xF84D && h2 & 0x0FFF == 0x0D04 { return .stackDown(bytes: 4) }
        // POP.W one register = LDR Rt, [SP], #4: 1111 1000 0101 1101 / Rt 1011 0000 0100.
        if h1 == 0xF85D && h2 & 0x0FFF == 0x0B04 {
            return h2 >> 12 == 15 ? .functionReturn : .stackUp(bytes: 4)
        }
        // STMIA SP! / LDMDB SP! (rare, but they move SP): 1110 1000 1010 1101 / 1110 1001 0011 1101.
        if h1 == 0xE8AD { return .stackUp(bytes: 4 * UInt32(h2.nonzeroBitCount)) }
        if h1 == 0xE93D { return .stackDown(bytes: 4 * UInt32(h2.nonzeroBitCount)) }
        // STRD / LDRD with writeback on SP: 1110 100P U1W0 1101 (libgcc: strd r12, lr, [sp, #-16]!).
        if h1 & 0xFE4F == 0xE84D && h1 & 0x0020 != 0 {
            let bytes = UInt32(h2 & 0xFF) * 4
            return h1 & 0x0080 != 0 ? .stackUp(bytes: bytes) : .stackDown(bytes: bytes)
        }
        // Any other LDR with Rt = PC: a jump through memory (1111 1000 x101 Rn / 1111 ...).
        if h1 & 0xFF70 == 0xF850 && h2 >> 12 == 15 { return .indirectBranch(register: 15) }
        if h1 & 0xFFF0 == 0xF8D0 && h2 >> 12 == 15 { return .indirectBranch(register: 15) }
        // VPUSH / VPOP: 1110 1101 0D10 1101 / 1100 1x0D 1011 1101 (A7.7.249).
        if h1 & 0xFFBF == 0xED2D && h2 & 0x0E00 == 0x0A00 { return .stackDown(bytes: UInt32(h2 & 0xFF) * 4) }
        if h1 & 0xFFBF == 0xECBD && h2 & 0x0E00 == 0x0A00 { return .stackUp(bytes: UInt32(h2 & 0xFF) * 4) }
        // SUB.W / ADD.W SP, SP, #const (T3, modified immediate) and SUBW / ADDW SP, SP, #imm12 (T4).
        if h2 & 0x8F00 == 0x0D00 {
            let imm12 = (UInt32(h1 >> 10) & 1) << 11 | (UInt32(h2 >> 12) & 7) << 8 | UInt32(h2 & 0xFF)
            switch h1 & 0xFBFF {
            case 0xF1AD: return .stackDown(bytes: expandImmediate(imm12))
            case 0xF10D: return .stackUp(bytes: expandImmediate(imm12))
            case 0xF2AD: return .stackDown(bytes: imm12)
            case 0xF20D: return .stackUp(bytes: imm12)
            default: break
            }
        }
        // SUB.W / ADD.W SP, SP, Rm (register): 1110 1011 x01S 1101 / 0 imm3 1101 ...
        if h1 & 0xFFCF == 0xEB8D || h1 & 0xFFCF == 0xEBAD {
            if h2 & 0x0F00 == 0x0D00 { return .stackFromRegister }
        }
        // STR/STRB/STRH/LDR... (immediate, T4) with writeback on SP: 1111 100x xxx1 1101 / Rt 1PUW imm8.
        if h1 & 0xFE0F == 0xF80D && h2 & 0x0900 == 0x0900 {
            if h2 >> 12 == 15 && h1 & 0x0010 != 0 { return .functionReturn }
            let bytes = UInt32(h2 & 0xFF)
            return h2 & 0x0200 != 0 ? .stackUp(bytes: bytes) : .stackDown(bytes: bytes)
        }
        // MOV.W SP, Rm: 1110 1010 010S 1111 / 0000 1101 0000 Rm.
        if h1 & 0xFFEF == 0xEA4F && h2 & 0xFFF0 == 0x0D00 { return .stackFromRegister }
        return .other
    }

    /// ThumbExpandImm (A5.3.2) for a 12-bit `i:imm3:imm8`.
    static func expandImmediate(_ imm12: UInt32) -> UInt32 {
        let byte = imm12 & 0xFF
        switch imm12 >> 8 {
        case 0: return byte
        case 1: return byte << 16 | byte
        case 2: return byte << 24 | byte << 8
        case 3: return byte << 24 | byte << 16 | byte << 8 | byte
        default:
            let unrotated = 0x80 | imm12 & 0x7F
            let rotation = imm12 >> 7
            return unrotated >> rotation | unrotated << (32 - rotation)
        }
    }

    static func signExtend(_ value: UInt32, bits: UInt32) -> UInt32 {
        let shift = 32 - bits
        return UInt32(bitPattern: Int32(bitPattern: value << shift) >> shift)
    }
}
