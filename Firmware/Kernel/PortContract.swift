// The port's contract, checked at boot in every image: the offsets its assembly was built with
// (Contract/PortLayout.swift, passed to the assembler by `keel build`) are the compiler's layout
// of the task control block and of the scheduler's `current`. Folded away when they agree; a trap with a message at boot when a
// field moved, before any switch could load the wrong word.

enum PortContract {
    static func check() {
        typealias T = TaskControlBlock
        #if KEEL_FPU
        let stride = PortLayout.taskControlBlockBytesWithFPU
        let floatingPointAgrees = MemoryLayout<T>.offset(of: \T.floatingPoint) == Int(PortLayout.floatingPoint)
        #else
        let stride = PortLayout.taskControlBlockBytes
        let floatingPointAgrees = true
        #endif
        #if KEEL_ARMV6M
        let current = PortLayout.schedulerCurrentARMv6M
        #else
        let current = PortLayout.schedulerCurrent
        #endif
        let agrees = MemoryLayout<T>.offset(of: \T.context) == 0
            && MemoryLayout<SchedulerState>.offset(of: \SchedulerState.current) == Int(current)
            && MemoryLayout<T>.offset(of: \T.context.exceptionReturn) == Int(PortLayout.exceptionReturn)
            && MemoryLayout<T>.offset(of: \T.context.stackPointer) == Int(PortLayout.stackPointer)
            && MemoryLayout<T>.offset(of: \T.context.stackLimit) == Int(PortLayout.stackLimit)
            && MemoryLayout<T>.offset(of: \T.context.switchRegions) == Int(PortLayout.switchRegions)
            && MemoryLayout<T>.offset(of: \T.context.splitLimit) == Int(PortLayout.splitLimit)
            && MemoryLayout<T>.stride == Int(stride)
        if !agrees || !floatingPointAgrees { fatalError("Port: the task control block's or the scheduler's layout differs from Contract/PortLayout.swift") }
    }
}
