// What a fault record says happened: the record's `kind=`. Shared with the host (KeelContract).

@_spi(Contract) public enum FaultKind: UInt8, CaseIterable, Sendable {
    case stackOverflow, foreignStackWrite, hardFault, memoryManagement, busFault, usageFault, unexpectedInterrupt, fault
    case outOfMemory
    /// A segmented stack could not grow: the pool was empty or the task reached its `max`.
    case stackExhausted
    /// Another task's overflow wrote this task's stack (`cause`); the task did nothing wrong.
    case stackOverwritten
    /// A fault while the kernel was already handling one: the kernel resets.
    case faultInFaultPath
    /// A call that can block (one with a `timeout:`) was made in an interrupt handler.
    case blockingInHandler
    /// A task made a call that can block inside `Keel.withInterruptsMasked`: it could never
    /// be switched away, so it would spin forever with every interrupt held off.
    case blockingWithInterruptsMasked
    /// The watchdog ran out: the task named (`limit` its deadline in ticks) stopped checking
    /// in, or, with no task, the tick itself stopped.
    case watchdog

    public var reportName: StaticString {
        switch self {
        case .stackOverflow: "stack-overflow"
        case .foreignStackWrite: "foreign-stack-write"
        case .hardFault: "hard-fault"
        case .memoryManagement: "memory-management-fault"
        case .busFault: "bus-fault"
        case .usageFault: "usage-fault"
        case .unexpectedInterrupt: "unexpected-interrupt"
        case .fault: "fault"
        case .outOfMemory: "out-of-memory"
        case .stackExhausted: "stack-exhausted"
        case .stackOverwritten: "stack-overwritten"
        case .faultInFaultPath: "fault-in-fault-path"
        case .blockingInHandler: "blocking-in-handler"
        case .blockingWithInterruptsMasked: "blocking-with-interrupts-masked"
        case .watchdog: "watchdog"
        }
    }
}
