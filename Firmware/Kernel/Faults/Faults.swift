// The fault path's other ways in: a heap that could not satisfy an allocation, a call that
// can block made where none may, and a fault inside the fault path itself. The fault handler
// is Diagnosis.swift; the switch-out checks are SwitchDiagnosis.swift; what is decided and
// done is FaultResponse.swift; the record is FaultRecord.swift.

enum Faults {
    /// Set while the fault handler runs: a fault then is a fault of the fault path itself.
    nonisolated(unsafe) static var handling = false

    /// The heap could not satisfy `bytes`: the asking task is stopped (its allocation would
    /// otherwise come back null); in a handler or at boot, the system resets. In a split-stack
    /// image the allocation may be deep in task code whose prologue checks passed, with only
    /// the slack below: nothing is reported on that stack. A task's stop then takes the way
    /// of a refused segment (PendSV reports it), a handler's reset runs from the top of the
    /// handler stack. Elsewhere the report runs where the allocation failed.
    static func outOfMemory(bytes: UInt32) -> Never {
        let task = Processor.isInHandlerMode ? nil : currentTask
        let fault = FaultReport(task: task, kind: .outOfMemory, technique: .none, pc: 0, sp: 0, limit: bytes)
        #if KEEL_SPLIT_STACK
        guard let task else { resetOnFreshMainStack(fault) }
        SegmentedStacks.refuse(task, .heap, bytes, portProcessStack())
        #else
        guard let task else { FaultPolicy.resetSystem(fault) }
        report(fault, action: "kill")
        Scheduler.stop(task, state: .killed)  // PendSV is taken inside: the task never returns here
        while true { Processor.waitForInterrupt() }  // not reached
        #endif
    }

    #if KEEL_SPLIT_STACK
    /// Resets with `fault` from the top of the handler stack: the caller may be split code
    /// with only the slack left below its limit, too little for the report.
    static func resetOnFreshMainStack(_ fault: FaultReport) -> Never {
        pendingReset = fault
        portCallOnFreshMainStack { FaultPolicy.resetSystem(Faults.pendingReset) }
        while true {}  // not reached: the call resets
    }

    /// The fault `resetOnFreshMainStack` resets with (a static: the new stack cannot see the old).
    nonisolated(unsafe) static var pendingReset = FaultReport(task: nil, kind: .fault, technique: .none, pc: 0, sp: 0, limit: 0)
    #endif

    /// A call that can block, reached where it cannot: in a handler (no task to park) or in a
    /// task that masked interrupts itself (no switch can happen). Traps, so that the report
    /// runs in the fault handler on the handler stack: the call path of every blocking call
    /// (every task's worst case) then holds a store and one instruction, not a fault report.
    /// In a handler the system resets, as for any handler fault; a task gets its policy.
    @inline(__always)
    static func refuseBlocking() -> Never {
        // A volatile store: the compiler would drop a plain one, as nothing reads it before the trap.
        Register(address: withUnsafeMutablePointer(to: &blockingRefused) { UInt(bitPattern: $0) }).write(1)
        fatalError()  // a permanently undefined instruction: UsageFault, or HardFault when masked
    }

    /// Set to 1 just before `refuseBlocking` traps: the fault handler's sign that the trap is that.
    nonisolated(unsafe) static var blockingRefused: UInt32 = 0

    /// A fault while the fault path was running: nothing the kernel holds can be trusted any
    /// more, so it resets at once with the bare facts.
    static func faultInFaultPath(frame: UInt32, exception: UInt32) -> Never {
        FaultPolicy.resetSystem(FaultReport(task: nil, kind: .faultInFaultPath, technique: .none, pc: 0, sp: frame,
                                            limit: exception))
    }
}

