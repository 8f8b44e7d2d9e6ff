// The stack protections a task can ask for, and the interface every detector implements.
//
// A detector is a caseless enum with static methods: Embedded Swift has no existentials,
// and static dispatch keeps the context switch free of indirect calls. A detector that is
// not compiled in (`#if KEEL_...`, set by `keel build` from the manifest) costs nothing.

@_spi(Build) public struct Protections: OptionSet {
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
}

/// The small interface every stack-overflow detector has.
protocol StackDetector {
    static var technique: Technique { get }
    /// Sets the task's stack up for this detector before the task (re)starts.
    static func prepare(_ task: TaskPointer)
    /// Checks a task that was just switched out; `true` means its stack overflowed.
    static func hasOverflowed(_ task: TaskPointer) -> Bool
}

/// The value painted into unused stack and into red zones.
let stackPaintWord: UInt32 = 0xA5A5_A5A5
