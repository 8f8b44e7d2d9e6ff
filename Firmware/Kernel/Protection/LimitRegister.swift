// T1, stack-limit register: PSPLIM holds the running task's stack bottom (ARMv8-M Mainline).
//
// The hardware refuses any push or SP update below the limit and raises a UsageFault
// (UFSR.STKOF) before the write happens, including during exception entry. The port loads
// `context.stackLimit` into PSPLIM at every switch-in; this file only decides the value.
// A task without T1 gets limit 0, so the switch-in needs no branch.

enum LimitRegister: StackDetector {
    static var technique: Technique { .limitRegister }

    static func prepare(_ task: TaskPointer) {
        task.pointee.context.stackLimit = task.pointee.stackBottom
    }

    static func hasOverflowed(_ task: TaskPointer) -> Bool { false }
}
