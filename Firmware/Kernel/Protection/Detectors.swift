// The detectors compiled into this image, run in one place for the scheduler and task start.
//
// `keel build` defines KEEL_RED_ZONE, KEEL_SP_CHECK and KEEL_LIMIT_REGISTER only when some
// task asks for that technique, so an image pays only for what its manifest uses.

enum Detectors {
    /// Prepares a task's stack for every protection it asked for.
    static func prepare(_ task: TaskPointer) {
        #if KEEL_SPLIT_STACK
        SegmentedStacks.reset(task)  // first: it measures the old slack paint before painting anew
        #endif
        let protections = task.pointee.protections
        if protections.contains(.painting) { StackPainting.prepare(task) }
        #if KEEL_RED_ZONE
        if protections.contains(.redZone) { RedZone.prepare(task) }
        #endif
        #if KEEL_SP_CHECK
        if protections.contains(.stackPointerCheck) { StackPointerCheck.prepare(task) }
        #endif
        #if KEEL_LIMIT_REGISTER
        if protections.contains(.limitRegister) { LimitRegister.prepare(task) }
        #endif
    }

    /// Runs the switch-out checks; returns the technique that found an overflow, or `.none`.
    /// Tasks without a technique carry neutral values (limit 0, zero-byte red zone), so no
    /// per-task flag is tested on the switch path.
    @inline(__always)
    static func checkSwitchedOut(_ task: TaskPointer) -> Technique {
        #if KEEL_SP_CHECK
        if StackPointerCheck.hasOverflowed(task) {
            return .stackPointerCheck
        }
        #endif
        #if KEEL_RED_ZONE
        if RedZone.hasOverflowed(task) {
            return .redZone
        }
        #endif
        return .none
    }
}
