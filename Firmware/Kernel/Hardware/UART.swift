// The console's serial port: the board's first UART (CMSDK, nRF51 or STM32), transmit only, polled.
//
// The same bytes go to a real board's serial pins (the micro:bit's USB serial, the MPS2's
// UART0) and to QEMU's `-serial`, so an image talks the same way on both; semihosting is kept
// only to end a run under QEMU (Console.exit). Where the port is and how fast it runs are
// board facts (`Board.console`), reached here through linker symbols, like the stacks.
//
// Polled, one whole line at a time with interrupts masked (Console.swift): at 115200 baud a
// full 95-byte line holds interrupts off for about 8 ms on a real part. Under QEMU a byte is
// sent at once. An interrupt-driven transmit ring would lift that; the log keeps lines short.

@_extern(c, "keel_console_base") func consoleBase()
@_extern(c, "keel_console_baud") func consoleBaud()
@_extern(c, "keel_console_pin") func consolePin()

enum UART {
    static var base: UInt { UInt(linkerSymbol(consoleBase)) }

    /// Turns the transmitter on. Called once at reset, before the first line.
    static func configure() {
        #if KEEL_UART_NRF51
        Register(address: base &+ 0x500).write(4)                       // ENABLE: the UART
        Register(address: base &+ 0x50C).write(linkerSymbol(consolePin)) // PSELTXD
        Register(address: base &+ 0x524).write(linkerSymbol(consoleBaud)) // BAUDRATE
        Register(address: base &+ 0x008).write(1)                       // TASKS_STARTTX
        #elseif KEEL_UART_STM32
        // A real part starts with the USART's and the pin's clocks off and the pin an input;
        // QEMU 7.2 models neither RCC nor GPIO here and ignores these writes.
        let pin = linkerSymbol(consolePin)                              // PA<pin>, e.g. PA9 = USART1_TX
        Register(address: 0x4002_3830).modify { $0 |= 1 }               // RCC_AHB1ENR: GPIOA clock
        Register(address: 0x4002_3844).modify { $0 |= 1 &<< 4 }         // RCC_APB2ENR: USART1 clock
        Register(address: 0x4002_0000).modify { $0 = ($0 & ~(3 &<< (pin &* 2))) | (2 &<< (pin &* 2)) }  // GPIOA_MODER: alternate function
        let afr = Register(address: 0x4002_0020 &+ UInt(pin / 8) &* 4)  // GPIOA_AFRL/AFRH
        afr.modify { $0 = ($0 & ~(0xF &<< ((pin % 8) &* 4))) | (7 &<< ((pin % 8) &* 4)) }  // AF7: USART1..3
        Register(address: base &+ 0x08).write(linkerSymbol(consoleBaud)) // BRR: clock / (16 x baud), 12.4 fixed point
        Register(address: base &+ 0x0C).write(1 &<< 13 | 1 &<< 3)       // CR1: UE (USART on), TE (transmitter on)
        #else
        Register(address: base &+ 0x10).write(linkerSymbol(consoleBaud)) // BAUDDIV: clock / baud
        Register(address: base &+ 0x08).write(1)                        // CTRL: TX enable
        #endif
    }

    /// Sends `count` bytes, waiting for the transmitter before each.
    static func write(_ bytes: UnsafePointer<UInt8>, count: Int) {
        for index in 0..<count { send(bytes[index]) }
    }

    @inline(__always)
    static func send(_ byte: UInt8) {
        #if KEEL_UART_NRF51
        Register(address: base &+ 0x11C).write(0)              // EVENTS_TXDRDY cleared
        Register(address: base &+ 0x51C).write(UInt32(byte))   // TXD
        // TXDRDY comes when the byte has left; bounded, so a UART that never answers (no
        // clock, a model without it) loses output instead of hanging the kernel.
        var spins: UInt32 = 0
        while Register(address: base &+ 0x11C).read() == 0 && spins < 100_000 { spins &+= 1 }
        #elseif KEEL_UART_STM32
        var spins: UInt32 = 0
        while Register(address: base).read() & (1 &<< 7) == 0 && spins < 100_000 { spins &+= 1 }  // SR.TXE: DR is free
        Register(address: base &+ 0x04).write(UInt32(byte))    // DR
        #else
        var spins: UInt32 = 0
        while Register(address: base &+ 0x04).read() & 1 != 0 && spins < 100_000 { spins &+= 1 }  // STATE.TXFULL
        Register(address: base).write(UInt32(byte))            // DATA
        #endif
    }
}
