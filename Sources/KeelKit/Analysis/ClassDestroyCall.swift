// A jump through a register that is a class's destroy call: `swift_release`'s last step.
//
// Why: releasing the last reference to an object calls its class's deallocating deinit
// through the metadata, and `swift_release` is inlined all over Embedded Swift code. Read as
// "any function whose address is taken", that one jump reaches the whole image (allocating
// initialisers, the out-of-memory report...), and every task that touches a String or an
// array gets a bound far above what it can use. The shape is fixed by the object layout:
//
//     ldr rA, [rObject]        @ the object's first word: its class metadata
//     ldr rN, [rA, #4]         @ the metadata's second word: the deallocating deinit
//     blx rN                   @ (or bx rN, as a tail call)
//
// Embedded Swift's class metadata is [superclass, destroy, ivar destroyer, vtable...], so
// the targets are the words at offset 4 of every class metadata record in the image (the
// Swift `...N` symbols whose second word is a function), nothing else.
//
// What is assumed (listed with the other Embedded Swift facts in SwiftRuntimeFacts.swift):
// that the shape above only comes from class metadata. Hand-written pointer tables with the
// same shape (`p->ops->second`) would be resolved wrongly; Keel's kernel has none. The shape
// must be straight-line: no branch lands between the first load and the jump, each
// instruction in between is one whose written registers the recogniser knows (16-bit
// Thumb, or `ldr.w`), and none is conditional (an IT block); otherwise the jump is left to
// the address-taken rule.

enum ClassDestroyCall {
    /// The destroy slot's offset in class metadata.
    static let destroySlot: UInt32 = 4
    /// How far back the two loads may be.
    static let window = 12

    /// One decoded instruction of a function, in order.
    struct Step {
        var address: UInt32
        var first: UInt16
        var second: UInt16?
    }

    /// True when the register jump at `steps[site]` through `register` calls a destroy slot.
    static func matches(_ steps: [Step], site: Int, register: UInt8, branchTargets: Set<UInt32>) -> Bool {
        var wanted = register
        var loadsFound = 0
        var index = site
        while index > 0 && site - index < window {
            // A branch landing on an instruction after this one: the loads may not have run.
            if branchTargets.contains(steps[index].address) { return false }
            index -= 1
            let step = steps[index]
            guard let written = registersWritten(step) else { return false }
            guard written.contains(wanted) else { continue }
            guard let (destination, base, offset) = loadWord(step), destination == wanted else { return false }
            if loadsFound == 0 {
                guard offset == destroySlot else { return false }
                wanted = base
                loadsFound = 1
            } else {
                guard offset == 0 else { return false }
                // Not conditional: no IT block before it reaches this load (an IT covers one to
                // four instructions, as many as its mask says).
                for before in max(0, index - 4)..<index where steps[before].second == nil && isIfThen(steps[before].first) {
                    let covered = 4 - (steps[before].first & 0xF).trailingZeroBitCount
                    if before + covered >= index { return false }
                }
                return true
            }
        }
        return false
    }

    /// `ldr rT, [rN, #imm]` (16-bit T1 or 32-bit T3): (rT, rN, imm).
    static func loadWord(_ step: Step) -> (UInt8, UInt8, UInt32)? {
        let h = step.first
        if let h2 = step.second {
            // Not from SP or PC: an object is reached through a register.
            guard h & 0xFFF0 == 0xF8D0, h & 0xF < 13 else { return nil }
            return (UInt8(h2 >> 12), UInt8(h & 0xF), UInt32(h2 & 0xFFF))
        }
        guard h & 0xF800 == 0x6800 else { return nil }
        return (UInt8(h & 7), UInt8((h >> 3) & 7), UInt32((h >> 6) & 0x1F) * 4)
    }

    static func isIfThen(_ h: UInt16) -> Bool { h & 0xFF00 == 0xBF00 && h & 0xF != 0 }

    /// The registers an instruction writes; nil when the recogniser does not know (any
    /// 32-bit instruction but `ldr.w`, an IT, a branch that leaves the straight line).
    static func registersWritten(_ step: Step) -> Set<UInt8>? {
        let h = step.first
        if step.second != nil {
            if let (destination, _, _) = loadWord(step), destination != 15 { return [destination] }
            return nil
        }
        let low = UInt8(h & 7)
        switch h >> 11 {
        case 0b00000...0b00011: return [low]                                   // shifts, add/sub
        case 0b00100, 0b00110, 0b00111: return [UInt8((h >> 8) & 7)]           // mov/add/sub imm8
        case 0b00101: return []                                                // cmp imm8
        case 0b01000:
            if h & 0xFC00 == 0x4000 {                                          // data processing
                let op = (h >> 6) & 0xF
                return op == 0b1000 || op == 0b1010 || op == 0b1011 ? [] : [low]   // tst, cmp, cmn
            }
            let highDestination = UInt8((h >> 4) & 0x8) | low
            switch (h >> 8) & 3 {
            case 0, 2: return [highDestination]                                // add, mov (high)
            case 1: return []                                                  // cmp (high)
            default: return h & 0x80 != 0 ? [14, 0, 1, 2, 3, 12] : nil         // blx clobbers; bx leaves
            }
        case 0b01001: return [UInt8((h >> 8) & 7)]                             // ldr literal
        case 0b01010, 0b01011: return (h >> 9) & 7 >= 3 ? [low] : []           // loads / stores, register offset
        case 0b01101, 0b01111, 0b10001: return [low]                           // ldr, ldrb, ldrh imm
        case 0b01100, 0b01110, 0b10000, 0b10010: return []                     // str, strb, strh, str sp
        case 0b10011, 0b10100, 0b10101: return [UInt8((h >> 8) & 7)]           // ldr sp, adr, add sp imm
        case 0b10110, 0b10111:
            if isIfThen(h) { return nil }
            if h & 0xFF00 == 0xB200 || h & 0xFF00 == 0xBA00 { return [low] }   // extend, reverse
            if h & 0xFE00 == 0xBC00 {                                          // pop
                if h & 0x100 != 0 { return nil }
                return Set((0..<8).filter { h & (1 << $0) != 0 }.map { UInt8($0) })
            }
            return []                                                          // push, sp adjust, cbz, hints
        case 0b11000: return [UInt8((h >> 8) & 7)]                             // stm (writeback)
        case 0b11001: return Set((0..<8).filter { h & (1 << $0) != 0 }.map { UInt8($0) } + [UInt8((h >> 8) & 7)])
        case 0b11010, 0b11011: return []                                       // b<c>, svc: falls through
        default: return nil                                                    // b, 32-bit prefixes
        }
    }
}
