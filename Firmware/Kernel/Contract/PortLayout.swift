// The task control block offsets the port's assembly uses: one definition. `keel build` passes
// them to the assembler as -D definitions (TCB_STACK_POINTER=32, ...), which Port.S and
// MoreStack.S use by name, and every image checks them against the compiler's layout of
// `TaskControlBlock` at boot (Kernel/PortContract.swift). Shared with the host (KeelContract).

@_spi(Contract) public enum PortLayout {
    /// `context.stackPointer`: the task's PSP while it is switched out (r4-r11 are before it).
    public static let stackPointer: UInt32 = 32
    /// `context.stackLimit`: what the switch-in loads into PSPLIM (ARMv8-M).
    public static let stackLimit: UInt32 = 36
    /// `context.switchRegions`: the two MPU regions the switch-in writes (RBAR, RASR|RLAR each).
    public static let switchRegions: UInt32 = 40
    /// `context.splitLimit`: what the switch-in stores into `__STACK_LIMIT` (split-stack images).
    public static let splitLimit: UInt32 = 56
    /// A control block's size: the scheduler indexes the table with a shift.
    public static let taskControlBlockBytes: UInt32 = 128
}
