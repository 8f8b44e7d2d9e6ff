// The stack protections a task asks for, as the bits of its control block's protections byte,
// and their manifest names. Shared with the host (KeelContract), which reads the byte from a
// running target (`keel top`) and the names from the stack records.

@_spi(Build) @_spi(Contract) public struct Protections: OptionSet, Sendable {
    @_spi(Build) public let rawValue: UInt8
    @_spi(Build) public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Stack painting and the high-water mark.
    @_spi(Build) public static let painting = Protections(rawValue: 1 << 0)
    /// T1: PSPLIM loaded at every switch-in (ARMv8-M).
    @_spi(Build) public static let limitRegister = Protections(rawValue: 1 << 1)
    /// T4: painted pattern at the bottom of the stack, checked at every switch-out.
    @_spi(Build) public static let redZone = Protections(rawValue: 1 << 2)
    /// T5: the saved stack pointer compared with the stack's limit at every switch-out.
    @_spi(Build) public static let stackPointerCheck = Protections(rawValue: 1 << 3)
    /// T2: an MPU region around the running stack; every other task stack is unwritable.
    @_spi(Build) public static let mpuRegion = Protections(rawValue: 1 << 4)
    /// T3: a no-access MPU guard directly below the running stack.
    @_spi(Build) public static let mpuGuard = Protections(rawValue: 1 << 5)
    /// T6: the split-stack prologue against a limit the slack above the stack's bottom
    /// (Segments/SegmentedStacks.swift, `reset` and `refuse`).
    @_spi(Build) public static let prologueCheck = Protections(rawValue: 1 << 6)

    /// Every protection with its manifest name, in the order the stack record writes them.
    /// (A function, not an array: the kernel allocates nothing for it.)
    public static func named(_ index: Int) -> (protection: Protections, name: StaticString)? {
        switch index {
        case 0: (.painting, "paint")
        case 1: (.limitRegister, "limit-register")
        case 2: (.mpuRegion, "mpu-region")
        case 3: (.mpuGuard, "mpu-guard")
        case 4: (.redZone, "red-zone")
        case 5: (.stackPointerCheck, "sp-check")
        case 6: (.prologueCheck, "prologue-check")
        default: nil
        }
    }
}

/// The value painted into unused stack and into red zones; the host counts it the same way.
@_spi(Contract) public let stackPaintWord: UInt32 = 0xA5A5_A5A5
