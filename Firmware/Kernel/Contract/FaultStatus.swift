// The Configurable Fault Status Register, typed: one definition for the kernel's diagnosis
// and the host's decoding of a record's `cfsr=`. Shared with the host (KeelContract).
// Reference: ARMv7-M B3.2.15 (MMFSR, BFSR, UFSR), ARMv8-M adds UFSR.STKOF.

@_spi(Contract) public struct FaultStatus: OptionSet, Sendable {
    public let rawValue: UInt32
    @_spi(Contract) public init(rawValue: UInt32) { self.rawValue = rawValue }

    // MemManage (MMFSR, bits 0-7).
    public static let instructionAccessViolation = FaultStatus(rawValue: 1 << 0)   // IACCVIOL
    public static let dataAccessViolation = FaultStatus(rawValue: 1 << 1)          // DACCVIOL
    public static let memManageUnstacking = FaultStatus(rawValue: 1 << 3)          // MUNSTKERR
    public static let memManageStacking = FaultStatus(rawValue: 1 << 4)            // MSTKERR
    public static let memManageLazyState = FaultStatus(rawValue: 1 << 5)           // MLSPERR
    public static let memManageAddressValid = FaultStatus(rawValue: 1 << 7)        // MMARVALID
    // BusFault (BFSR, bits 8-15).
    public static let instructionBusError = FaultStatus(rawValue: 1 << 8)          // IBUSERR
    public static let preciseDataBusError = FaultStatus(rawValue: 1 << 9)          // PRECISERR
    public static let impreciseDataBusError = FaultStatus(rawValue: 1 << 10)       // IMPRECISERR
    public static let busUnstacking = FaultStatus(rawValue: 1 << 11)               // UNSTKERR
    public static let busStacking = FaultStatus(rawValue: 1 << 12)                 // STKERR
    public static let busLazyState = FaultStatus(rawValue: 1 << 13)                // LSPERR
    public static let busFaultAddressValid = FaultStatus(rawValue: 1 << 15)        // BFARVALID
    // UsageFault (UFSR, bits 16-31).
    public static let undefinedInstruction = FaultStatus(rawValue: 1 << 16)        // UNDEFINSTR
    public static let invalidState = FaultStatus(rawValue: 1 << 17)                // INVSTATE
    public static let invalidPC = FaultStatus(rawValue: 1 << 18)                   // INVPC
    public static let noCoprocessor = FaultStatus(rawValue: 1 << 19)               // NOCP
    public static let stackOverflow = FaultStatus(rawValue: 1 << 20)               // STKOF (ARMv8-M)
    public static let unaligned = FaultStatus(rawValue: 1 << 24)                   // UNALIGNED
    public static let divideByZero = FaultStatus(rawValue: 1 << 25)                // DIVBYZERO

    public static let memManage = FaultStatus(rawValue: 0xFF)
    public static let bus = FaultStatus(rawValue: 0xFF00)
    public static let usage = FaultStatus(rawValue: 0xFFFF_0000)

    /// The hardware could not push the exception frame.
    public var stackingFailed: Bool { !isDisjoint(with: [.memManageStacking, .busStacking]) }
    /// The MPU refused an access (a data access or the frame's stacking).
    public var refusedByMPU: Bool { !isDisjoint(with: [.dataAccessViolation, .memManageStacking]) }
    /// The address of the refused access is in MMFAR or BFAR.
    public var addressValid: Bool { !isDisjoint(with: [.memManageAddressValid, .busFaultAddressValid]) }

    /// A fault bit's name as ARM's manuals spell it; nil for the "address valid" flags (the
    /// record carries the address itself) and for reserved bits.
    public static func name(ofBit bit: UInt32) -> StaticString? {
        switch bit {
        case 0: "IACCVIOL"
        case 1: "DACCVIOL"
        case 3: "MUNSTKERR"
        case 4: "MSTKERR"
        case 5: "MLSPERR"
        case 8: "IBUSERR"
        case 9: "PRECISERR"
        case 10: "IMPRECISERR"
        case 11: "UNSTKERR"
        case 12: "STKERR"
        case 13: "LSPERR"
        case 16: "UNDEFINSTR"
        case 17: "INVSTATE"
        case 18: "INVPC"
        case 19: "NOCP"
        case 20: "STKOF"
        case 24: "UNALIGNED"
        case 25: "DIVBYZERO"
        default: nil
        }
    }
}
