// The kernel's interrupt ceiling: the one number that splits interrupts into the ones the
// kernel masks and the zero-latency ones it never delays. Shared with the host (KeelContract):
// `keel build` passes it to the port's assembly, and the manifest's zero-latency interrupts
// and `keel check` are judged against it.

@_spi(Contract) public enum KernelCeiling {
    /// BASEPRI in the kernel's critical sections on ARMv7-M and ARMv8-M Mainline: interrupts
    /// at this priority or less urgent (numerically greater: every `attachInterrupt` handler,
    /// SysTick, PendSV) wait while the kernel works; more urgent ones (0x00 up to this, on a
    /// part with 3 priority bits 0x00 and 0x20) run at once and may not call the kernel.
    /// ARMv6-M has no BASEPRI: there the kernel masks every interrupt (PRIMASK).
    public static let basePriority: UInt8 = 0x40
}
