// The three timer register models behind `DeviceTimer` (DeviceTimer.swift), one per build
// condition, each with the same three operations: start with a period in clock ticks, stop,
// acknowledge an interrupt. Register offsets and bits are the vendors' (CMSDK TRM, nRF51
// Reference Manual, STM32F4 RM0090) and QEMU 7.2's models of them (hw/timer/*.c).

#if KEEL_TIMER_NRF51
/// Nordic's nRF51 TIMER in 32-bit timer mode at 16 MHz (PRESCALER 0): counts up, COMPARE[0]
/// raises the interrupt and (the COMPARE0_CLEAR short) starts the count again from 0.
enum TimerDevice {
    static var base: UInt { UInt(linkerSymbol(timerBase)) }
    static var startTask: Register { Register(address: base) }                  // TASKS_START
    static var stopTask: Register { Register(address: base &+ 0x004) }          // TASKS_STOP
    static var clearTask: Register { Register(address: base &+ 0x00C) }         // TASKS_CLEAR: count = 0
    static var compareEvent: Register { Register(address: base &+ 0x140) }      // EVENTS_COMPARE[0]: write 0 to clear
    static var shortcuts: Register { Register(address: base &+ 0x200) }         // SHORTS: bit 0 COMPARE0_CLEAR
    static var interruptSet: Register { Register(address: base &+ 0x304) }      // INTENSET: bit 16 COMPARE[0]
    static var interruptClear: Register { Register(address: base &+ 0x308) }    // INTENCLR
    static var mode: Register { Register(address: base &+ 0x504) }              // MODE: 0 timer
    static var bitMode: Register { Register(address: base &+ 0x508) }           // BITMODE: 3 = 32 bits
    static var prescaler: Register { Register(address: base &+ 0x510) }         // PRESCALER: clock = 16 MHz >> n
    static var compare: Register { Register(address: base &+ 0x540) }           // CC[0]

    static func start(period: UInt32) {
        mode.write(0)
        bitMode.write(3)          // before CC: the width masks the compare value
        prescaler.write(0)
        compare.write(period)
        shortcuts.write(1)
        compareEvent.write(0)
        interruptSet.write(1 &<< 16)
        startTask.write(1)
    }

    static func stop() {
        stopTask.write(1)
        clearTask.write(1)
        interruptClear.write(1 &<< 16)
        compareEvent.write(0)
    }

    @inline(__always)
    static func acknowledge() { compareEvent.write(0) }
}

#elseif KEEL_TIMER_STM32
/// ST's STM32 general-purpose timer (TIM2 on the F405) in up-counting mode: the update
/// event at ARR raises the interrupt and restarts the count. QEMU 7.2's model counts at the
/// 1 GHz it assumes and is armed by the ARR write (so ARR is written last, PSC and CNT are
/// left at reset); on a part the clock is the APB1 timer clock.
enum TimerDevice {
    static var base: UInt { UInt(linkerSymbol(timerBase)) }
    static var control: Register { Register(address: base) }                    // CR1: bit 0 CEN (counting)
    static var interruptEnable: Register { Register(address: base &+ 0x0C) }    // DIER: bit 0 UIE (update interrupt)
    static var status: Register { Register(address: base &+ 0x10) }            // SR: bit 0 UIF, write 0 to clear
    static var autoReload: Register { Register(address: base &+ 0x2C) }        // ARR: the count's top
    /// RCC_APB1ENR: a part starts with the timer's clock off (QEMU models no RCC here).
    static let clockEnable = Register(address: 0x4002_3840)

    static func start(period: UInt32) {
        clockEnable.modify { $0 |= 1 }   // TIM2EN
        interruptEnable.write(1)
        control.write(1)
        autoReload.write(period &- 1)    // last: QEMU arms the timer here
    }

    static func stop() {
        control.write(0)
        interruptEnable.write(0)
        status.write(0)
    }

    @inline(__always)
    static func acknowledge() { status.write(~1) }  // UIF cleared, the other flags kept
}

#else
/// Arm's CMSDK APB timer (the MPS2 boards' TIMER0; the AN547's S32K timer): counts down at
/// its clock from RELOAD; reaching 0 raises the interrupt and reloads (a period of RELOAD + 1).
enum TimerDevice {
    static var base: UInt { UInt(linkerSymbol(timerBase)) }
    static var control: Register { Register(address: base) }                    // CTRL: bit 0 enable, bit 3 interrupt enable
    static var reload: Register { Register(address: base &+ 0x08) }             // RELOAD (writing it loads VALUE too)
    static var interruptStatus: Register { Register(address: base &+ 0x0C) }    // INTSTATUS: bit 0, write 1 to clear

    static func start(period: UInt32) {
        reload.write(period &- 1)
        interruptStatus.write(1)
        control.write(0b1001)
    }

    static func stop() {
        control.write(0)
        interruptStatus.write(1)
    }

    @inline(__always)
    static func acknowledge() { interruptStatus.write(1) }
}
#endif
