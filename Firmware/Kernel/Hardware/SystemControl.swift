// The System Control Space registers the kernel uses: SCB, SysTick and fault status.
//
// Reference: ARMv7-M Architecture Reference Manual (DDI 0403E), B3.2 System Control Space
// and B3.3 SysTick; ARMv8-M (DDI 0553) keeps the same addresses. ARMv6-M has ICSR, SHPR3,
// AIRCR and SysTick at the same addresses but no CFSR/MMFAR/BFAR/SHCSR fault enables.

enum SystemControl {
    /// Interrupt Control and State Register; bit 28 pends PendSV.
    static let interruptControlState = Register(address: 0xE000_ED04)
    /// Application Interrupt and Reset Control; writing 0x05FA0004 requests a system reset.
    static let applicationInterruptReset = Register(address: 0xE000_ED0C)
    /// System Handler Priority Register 3: PendSV priority in [23:16], SysTick in [31:24].
    static let systemHandlerPriority3 = Register(address: 0xE000_ED20)
    /// System Handler Control and State: bits 16-18 enable MemManage, BusFault, UsageFault.
    static let systemHandlerControlState = Register(address: 0xE000_ED24)
    /// Configurable Fault Status: MMFSR [7:0], BFSR [15:8], UFSR [31:16].
    static let configurableFaultStatus = Register(address: 0xE000_ED28)
    static let hardFaultStatus = Register(address: 0xE000_ED2C)
    static let memManageFaultAddress = Register(address: 0xE000_ED34)
    static let busFaultAddress = Register(address: 0xE000_ED38)

    static let pendSVSet: UInt32 = 1 << 28
    /// ICSR bit 26: SysTick's exception is pending.
    static let sysTickPending: UInt32 = 1 << 26
}

enum SysTick {
    /// SYST_CSR: ENABLE [0], TICKINT [1], CLKSOURCE [2], COUNTFLAG [16] (cleared by a read).
    static let control = Register(address: 0xE000_E010)
    /// SYST_RVR: the value loaded when the count passes 0; a period is reload + 1 clocks.
    static let reload = Register(address: 0xE000_E014)
    /// SYST_CVR: clocks left until the count reaches 0 (the tick); any write clears it.
    static let current = Register(address: 0xE000_E018)

    /// The widest count the 24-bit counter holds.
    static let maximumReload: UInt32 = 0x00FF_FFFF
    static let enable: UInt32 = 0b001
    static let running: UInt32 = 0b111       // ENABLE | TICKINT | CLKSOURCE = processor clock
    static let stopped: UInt32 = 0b110       // the same, not counting
    static let runningOnReference: UInt32 = 0b011  // ENABLE | TICKINT, CLKSOURCE = the reference clock
    static let countFlag: UInt32 = 1 << 16

    /// Starts the tick from the processor clock with its interrupt enabled.
    static func start(clockHertz: UInt32, tickHertz: UInt32) {
        start(period: clockHertz / tickHertz)
    }

    /// Counts `period` clocks between interrupts, from the next clock: `control` says which
    /// clock (`running`: the processor's; `runningOnReference`: the reference clock).
    static func start(period: UInt32, control value: UInt32 = running) {
        reload.write(period &- 1)
        current.write(0)  // any write clears it: the counter loads the reload at its next clock
        control.write(value)
    }

    static func stop() { control.write(0) }
}
