// The task control block offsets the port's assembly uses: one definition. `keel build` passes
// them to the assembler as -D definitions (TCB_STACK_POINTER=32, ...), which Port.S and
// MoreStack.S use by name, and every image checks them against the compiler's layout of
// `TaskControlBlock` at boot (Kernel/PortContract.swift). Shared with the host (KeelContract).

@_spi(Contract) public enum PortLayout {
    /// `context.exceptionReturn`: the task's EXC_RETURN, right after r4-r11 so that one
    /// `stmia`/`ldmia` of r4-r11 and lr saves and loads it (ARMv7-M/v8-M).
    public static let exceptionReturn: UInt32 = 36
    /// `context.stackPointer`: the task's PSP while it is switched out.
    public static let stackPointer: UInt32 = 0
    /// `context.stackLimit`: what the switch-in loads into PSPLIM (ARMv8-M).
    public static let stackLimit: UInt32 = 40
    /// `context.switchRegions`: the two MPU regions the switch-in writes (RBAR, RASR|RLAR each).
    public static let switchRegions: UInt32 = 44
    /// `context.splitLimit`: what the switch-in stores into `__STACK_LIMIT` (split-stack images).
    public static let splitLimit: UInt32 = 60
    /// `floatingPoint`: s16-s31 of a task whose frame is an extended one (hard-float images).
    public static let floatingPoint: UInt32 = 128
    /// A control block's size: the scheduler indexes the table with a shift. A hard-float
    /// image's is 256 (s16-s31 after the 128 bytes every image has).
    public static let taskControlBlockBytes: UInt32 = 128
    public static let taskControlBlockBytesWithFPU: UInt32 = 256
    /// `SchedulerState.current` in `keel_scheduler`, the word the switch saves the outgoing task
    /// from and the start reads the first one from: after the 32-word rank table on ARMv7-M and
    /// ARMv8-M (Scheduler.swift), first on ARMv6-M, which keeps its table elsewhere.
    public static let schedulerCurrent: UInt32 = 128
    public static let schedulerCurrentARMv6M: UInt32 = 0
}
