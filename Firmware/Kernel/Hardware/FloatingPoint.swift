// The floating-point unit's control registers (hard-float images only: KEEL_FPU).
//
// Reference: ARMv7-M ARM (DDI 0403E) B3.2.20 CPACR, B3.2.23-24 FPCCR and FPCAR; ARMv8-M
// (DDI 0553) keeps the addresses. The FPU is off at reset (CPACR.CP10/CP11 = 0: the first
// VFP instruction is a NOCP usage fault). Keel turns it on for every context before the
// first Swift code that may use it, and keeps the hardware's lazy stacking: a context that
// used the FPU has 18 words reserved in its exception frame (EXC_RETURN bit 4 = 0), written
// only when the handler itself executes an FP instruction.

#if KEEL_FPU
enum FloatingPoint {
    /// Coprocessor Access Control: CP10 and CP11 in [23:20], 0b11 each = full access.
    static let coprocessorAccessControl = Register(address: 0xE000_ED88)
    /// FP Context Control: ASPEN (bit 31) sets CONTROL.FPCA on a context's first FP
    /// instruction, LSPEN (bit 30) makes the extended frame lazy, LSPACT (bit 0) says a lazy
    /// frame is reserved and not yet written (at FPCAR).
    static let contextControl = Register(address: 0xE000_EF34)
    /// FP Context Address: where the reserved s0-s15 and FPSCR of the lazy frame go.
    static let contextAddress = Register(address: 0xE000_EF38)

    static let automaticStateEnable: UInt32 = 1 << 31
    static let lazyStateEnable: UInt32 = 1 << 30
    static let lazyStateActive: UInt32 = 1 << 0

    /// Turns the FPU on with automatic, lazy state preservation. Called first at reset,
    /// before any code that may execute a VFP instruction.
    static func enable() {
        coprocessorAccessControl.write(coprocessorAccessControl.read() | (0xF << 20))
        contextControl.write(automaticStateEnable | lazyStateEnable)
        dataSynchronizationBarrier(0xF)
        instructionSynchronizationBarrier(0xF)  // the next instruction may be a VFP one
    }

    /// After a lazy-state error stopped or restarted the task whose frame it was, the fault
    /// returns into the handler that asked for the state (PendSV switching the task out, or a
    /// device handler); the task's context must match how that handler will leave it.
    /// - PendSV saved the task's registers and PSP before its FP save faulted, then loads the
    ///   next task from its control block: the context the response wrote (a fresh frame, or
    ///   the top of a stopped task's stack) is what counts. Nothing to do but keep it.
    /// - A device handler returns to the task with the extended EXC_RETURN it was entered
    ///   with: a restarted task's fresh frame is made an extended one (FP registers zero), so
    ///   the return pops it whole and the task starts at its entry.
    static func continueAfterLazyStateFault(_ task: TaskPointer, interruptedException: UInt32) {
        guard interruptedException != 14, task.pointee.isLive else {
            if !task.pointee.isLive { task.pointee.context.stackPointer = task.pointee.stackTop }
            return
        }
        let basic = task.pointee.context.stackPointer
        let extended = basic &- 72  // 26 words instead of 8: s0-s15, FPSCR and a reserved word above
        for word in 0..<8 as Range<UInt32> { Memory.storeWord(extended &+ word &* 4, Memory.loadWord(basic &+ word &* 4)) }
        for word in 8..<26 as Range<UInt32> { Memory.storeWord(extended &+ word &* 4, 0) }
        task.pointee.context.stackPointer = extended
        task.pointee.context.exceptionReturn = SavedContext.threadReturn & ~0x10
        portSetProcessStack(extended, task.pointee.context.stackLimit)
    }

    /// Drops a lazy frame that will never be written: the fault path stops or restarts the
    /// task whose frame it was, and a later FP instruction in a handler must not write s0-s15
    /// into a stack that is no longer that frame (or into the guard the frame reached).
    static func abandonLazyState() {
        contextControl.write(contextControl.read() & ~lazyStateActive)
    }
}
#endif
