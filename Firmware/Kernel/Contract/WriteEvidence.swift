// How the kernel decided what an overflow wrote below its stack: the record's `evidence=`.
// Shared with the host (KeelContract), which says it in words.

@_spi(Contract) public enum WriteEvidence: UInt8, CaseIterable, Sendable {
    /// Nothing below the stack (and its guard) was in reach.
    case none = 0
    /// The stack-limit register or the MPU refused the access: nothing below was written.
    case refused = 1
    /// The hardware pushed the exception frame below the stack: those bytes were written.
    case frame = 2
    /// SP was below the stack at the switch: its exception frame was written there, the
    /// bytes between it and the stack may have been.
    case stackPointer = 3
    /// The red zone's lowest word changed: the word below it may have been written.
    case redZone = 4
    /// Code ran down to an access the MPU refused: the writable bytes between the stack and
    /// that address may have been written.
    case refusedBelow = 5

    public var reportName: StaticString {
        switch self {
        case .none: "none"
        case .refused: "refused"
        case .frame: "frame"
        case .stackPointer: "stack-pointer"
        case .redZone: "red-zone"
        case .refusedBelow: "refused-below"
        }
    }
}
