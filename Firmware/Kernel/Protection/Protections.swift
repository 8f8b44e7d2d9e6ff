// The stack protections a task can ask for, and the interface every detector implements.
//
// A detector is a caseless enum with static methods: Embedded Swift has no existentials,
// and static dispatch keeps the context switch free of indirect calls. A detector that is
// not compiled in (`#if KEEL_...`, set by `keel build` from the manifest) costs nothing.


/// The small interface every stack-overflow detector has.
protocol StackDetector {
    static var technique: Technique { get }
    /// Sets the task's stack up for this detector before the task (re)starts.
    static func prepare(_ task: TaskPointer)
    /// Checks a task that was just switched out; `true` means its stack overflowed.
    static func hasOverflowed(_ task: TaskPointer) -> Bool
}

