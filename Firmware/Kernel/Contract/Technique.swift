// How an overflow was detected: the record's `technique=`. Shared with the host (KeelContract),
// which decodes a record's name back into this type.

@_spi(Contract) public enum Technique: UInt8, CaseIterable, Sendable {
    case none = 0
    case limitRegister = 1
    case mpuRegion = 2
    case mpuGuard = 3
    case redZone = 4
    case stackPointerCheck = 5
    /// The split-stack prologue's comparison with `__STACK_LIMIT` (segmented and split images).
    case splitStack = 6
    /// T6: the same comparison on a fixed stack that asked for it, whose limit keeps the
    /// slack below it, so the refused call has written nothing below the stack.
    case prologueCheck = 7
    /// The MPU region at the bottom of a segmented task's segment in use (M3,
    /// Segments/SegmentGuard.swift): code without the prologue ran off the segment.
    case segmentGuard = 8

    public var reportName: StaticString {
        switch self {
        case .none: "none"
        case .limitRegister: "limit-register"
        case .mpuRegion: "mpu-region"
        case .mpuGuard: "mpu-guard"
        case .redZone: "red-zone"
        case .stackPointerCheck: "sp-check"
        case .splitStack: "split-stack"
        case .prologueCheck: "prologue-check"
        case .segmentGuard: "segment-guard"
        }
    }
}
