// T5, stack-pointer check: the task's saved stack pointer against its stack's bottom, at every switch-out.
//
// One compare. It catches a task that is below its stack at the moment it is switched out,
// not one that dipped below and came back; what was written below stays written. A task
// without T5 has limit 0, so the switch path compares without first testing a flag.

enum StackPointerCheck: StackDetector {
    static var technique: Technique { .stackPointerCheck }

    static func prepare(_ task: TaskPointer) {
        task.pointee.stackCheckLimit = task.pointee.stackBottom
    }

    @inline(__always)
    static func hasOverflowed(_ task: TaskPointer) -> Bool {
        // The saved pointer addresses the hardware exception frame, which must lie in the stack.
        task.pointee.context.stackPointer < task.pointee.stackCheckLimit
    }
}
