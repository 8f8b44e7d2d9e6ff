// Exception priorities and enables: the part of the exception model the kernel configures.
//
// PendSV and SysTick share the lowest priority, so neither interrupts the other and a
// context switch always runs to completion. The configurable faults (MemManage, BusFault,
// UsageFault; ARMv7-M and ARMv8-M only) are enabled so a stack overflow arrives as its own
// fault with its own status bits instead of escalating to HardFault.

enum Exceptions {
    static func configurePriorities() {
        SystemControl.systemHandlerPriority3.modify { $0 |= 0xFFFF_0000 }  // PendSV, SysTick lowest
        #if !KEEL_ARMV6M
        SystemControl.systemHandlerControlState.modify { $0 |= 0b111 << 16 }  // MEM, BUS, USG FAULTENA
        #endif
    }
}
