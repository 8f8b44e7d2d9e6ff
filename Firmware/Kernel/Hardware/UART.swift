// The console's serial port: the board's first UART (CMSDK, nRF51 or STM32), its registers.
//
// The same bytes go to a real board's serial pins (the micro:bit's USB serial, the MPS2's
// UART0) and to QEMU's `-serial`, so an image talks the same way on both; semihosting is kept
// only to end a run under QEMU (Console.exit). Where the port is, how fast it runs and which
// interrupt lines it raises are board facts (`Board.console`), reached here through linker
// symbols, like the stacks.
//
// Two ways out: `send` waits for the transmitter (records, boot, a board without a transmit
// interrupt); `startSending` hands one byte over and returns, and the transmit interrupt says
// when the next may go (ConsoleRing.swift drains its ring that way). In: `receivedByte`
// takes what the receive interrupt announced. STM32: QEMU 7.2's USART model never raises its
// transmit interrupt (TXE/TC), so there the console sends polled and only receives by interrupt.
//
// CMSDK APB UART (Arm DDI 0479, 4.3): DATA 0x00, STATE 0x04 (bit 0 TX full, bit 1 RX full),
// CTRL 0x08 (bit 0 TX enable, 1 RX enable, 2 TX interrupt, 3 RX interrupt), INTSTATUS 0x0C
// (bit 0 TX, bit 1 RX; write 1 to clear), BAUDDIV 0x10. The TX interrupt comes when the
// transmit buffer stops being full: after each byte handed over.
// nRF51 UART (nRF51 Reference Manual, 29): STARTRX 0x000, STARTTX 0x008, EVENTS_RXDRDY 0x108,
// EVENTS_TXDRDY 0x11C, INTENSET 0x304 (bit 2 RXDRDY, bit 7 TXDRDY), ENABLE 0x500, PSELTXD
// 0x50C, PSELRXD 0x514, RXD 0x518, TXD 0x51C, BAUDRATE 0x524.
// STM32F4 USART (RM0090, 30.6): SR 0x00 (bit 5 RXNE, bit 7 TXE), DR 0x04, BRR 0x08, CR1 0x0C
// (bit 2 RE, 3 TE, 5 RXNEIE, 13 UE).

@_extern(c, "keel_console_base") func consoleBase()
@_extern(c, "keel_console_baud") func consoleBaud()
@_extern(c, "keel_console_pin") func consolePin()
@_extern(c, "keel_console_receive_pin") func consoleReceivePin()
@_extern(c, "keel_console_receive_line") func consoleReceiveLine()
@_extern(c, "keel_console_transmit_line") func consoleTransmitLine()

enum UART {
    static var base: UInt { UInt(linkerSymbol(consoleBase)) }

    /// The NVIC lines the port raises for received and for sent bytes (the same line where the
    /// part has one for both: the nRF51, the STM32).
    static var receiveLine: Int { Int(linkerSymbol(consoleReceiveLine)) }
    static var transmitLine: Int { Int(linkerSymbol(consoleTransmitLine)) }

    /// Whether the transmit interrupt can drain a ring here (`ConsolePort.transmitInterrupt`:
    /// not on the STM32 under QEMU, see the top). A build condition, not a linker symbol: a
    /// symbol's value is an address to the compiler, which takes it to be nonzero.
    static var transmitsByInterrupt: Bool {
        #if KEEL_UART_POLLED_TRANSMIT
        false
        #else
        true
        #endif
    }

    /// Turns the transmitter on, and the receiver with `receiving` (its interrupt waits for
    /// `enableInterrupts`; a byte that comes meanwhile waits in the port, and QEMU holds the
    /// next ones back). Called once at reset, before the first line.
    static func configure(receiving: Bool) {
        #if KEEL_UART_NRF51
        Register(address: base &+ 0x500).write(4)                       // ENABLE: the UART
        Register(address: base &+ 0x50C).write(linkerSymbol(consolePin)) // PSELTXD
        Register(address: base &+ 0x524).write(linkerSymbol(consoleBaud)) // BAUDRATE
        Register(address: base &+ 0x008).write(1)                       // TASKS_STARTTX
        if receiving {
            Register(address: base &+ 0x514).write(linkerSymbol(consoleReceivePin)) // PSELRXD
            Register(address: base &+ 0x000).write(1)                               // TASKS_STARTRX
        }
        #elseif KEEL_UART_STM32
        // A real part starts with the USART's and the pin's clocks off and the pin an input;
        // QEMU 7.2 models neither RCC nor GPIO here and ignores these writes.
        Register(address: 0x4002_3830).modify { $0 |= 1 }               // RCC_AHB1ENR: GPIOA clock
        Register(address: 0x4002_3844).modify { $0 |= 1 &<< 4 }         // RCC_APB2ENR: USART1 clock
        alternateFunction(pin: linkerSymbol(consolePin))               // PA<pin>, e.g. PA9 = USART1_TX
        Register(address: base &+ 0x08).write(linkerSymbol(consoleBaud)) // BRR: clock / (16 x baud), 12.4 fixed point
        if receiving { alternateFunction(pin: linkerSymbol(consoleReceivePin)) }   // e.g. PA10 = USART1_RX
        // CR1: UE (USART on), TE (transmitter on), RE (receiver on; QEMU drops what arrives
        // while it is off).
        Register(address: base &+ 0x0C).write(1 &<< 13 | 1 &<< 3 | (receiving ? 1 &<< 2 : 0))
        #else
        Register(address: base &+ 0x10).write(linkerSymbol(consoleBaud)) // BAUDDIV: clock / baud
        Register(address: base &+ 0x08).write(receiving ? 1 | 1 &<< 1 : 1)  // CTRL: TX enable, RX enable
        #endif
    }

    #if KEEL_UART_STM32
    /// PA<pin> in alternate function 7 (USART1..3).
    static func alternateFunction(pin: UInt32) {
        Register(address: 0x4002_0000).modify { $0 = ($0 & ~(3 &<< (pin &* 2))) | (2 &<< (pin &* 2)) }  // GPIOA_MODER: alternate function
        let afr = Register(address: 0x4002_0020 &+ UInt(pin / 8) &* 4)  // GPIOA_AFRL/AFRH
        afr.modify { $0 = ($0 & ~(0xF &<< ((pin % 8) &* 4))) | (7 &<< ((pin % 8) &* 4)) }
    }
    #endif

    /// Turns the transmit interrupt on (where the port has one) and, with `receiving`, the
    /// receive interrupt (the receiver is on since `configure`). The lines themselves are
    /// enabled by the caller, which also pends the receive line once: a byte that came before
    /// its interrupt was on raised none (the CMSDK UART flags RX only while RX_INTEN is set).
    static func enableInterrupts(receiving: Bool) {
        #if KEEL_UART_NRF51
        Register(address: base &+ 0x304).write(1 &<< 7)                       // INTENSET: TXDRDY
        #elseif KEEL_UART_STM32
        // No transmit interrupt under QEMU (see the top).
        #else
        Register(address: base &+ 0x08).modify { $0 |= 1 &<< 2 }              // CTRL: TX_INTEN
        #endif
        if receiving { resumeReceiving() }
    }

    /// Stops the receive interrupt while the console's input buffer is full: the next byte
    /// stays in the port (QEMU then holds the rest back; a real part's UART overruns, as it
    /// would with nowhere to put it anyway). Its pending request is cleared too.
    static func pauseReceiving() {
        #if KEEL_UART_NRF51
        Register(address: base &+ 0x308).write(1 &<< 2)                        // INTENCLR: RXDRDY
        #elseif KEEL_UART_STM32
        Register(address: base &+ 0x0C).modify { $0 &= ~(1 &<< 5) }           // CR1: RXNEIE off
        #else
        Register(address: base &+ 0x08).modify { $0 &= ~(1 &<< 3) }           // CTRL: RX_INTEN off
        Register(address: base &+ 0x0C).write(1 &<< 1)                        // INTSTATUS.RX cleared
        #endif
    }

    /// Turns the receive interrupt back on; the caller pends the line for what waits.
    static func resumeReceiving() {
        #if KEEL_UART_NRF51
        Register(address: base &+ 0x304).write(1 &<< 2)                        // INTENSET: RXDRDY
        #elseif KEEL_UART_STM32
        Register(address: base &+ 0x0C).modify { $0 |= 1 &<< 5 }              // CR1: RXNEIE
        #else
        Register(address: base &+ 0x08).modify { $0 |= 1 &<< 3 }              // CTRL: RX_INTEN
        #endif
    }

    /// Sends `count` bytes, waiting for the transmitter before each.
    @inline(__always)
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
        waitUntilTransmitterFree()
        Register(address: base).write(UInt32(byte))            // DATA
        #endif
    }

    /// Hands `byte` to the transmitter, which must be free (its interrupt said so, or nothing
    /// was sent since it last did), and returns at once: the transmit interrupt follows.
    @inline(__always)
    static func startSending(_ byte: UInt8) {
        #if KEEL_UART_NRF51
        Register(address: base &+ 0x11C).write(0)              // EVENTS_TXDRDY cleared: it says when this one left
        Register(address: base &+ 0x51C).write(UInt32(byte))   // TXD
        #elseif KEEL_UART_STM32
        send(byte)
        #else
        Register(address: base).write(UInt32(byte))            // DATA
        #endif
    }

    /// Waits (bounded, as `send`) until a byte handed over by `startSending` has left.
    static func waitUntilTransmitterFree() {
        var spins: UInt32 = 0
        #if KEEL_UART_NRF51
        while Register(address: base &+ 0x11C).read() == 0 && spins < 100_000 { spins &+= 1 }  // EVENTS_TXDRDY
        #elseif KEEL_UART_STM32
        while Register(address: base).read() & (1 &<< 7) == 0 && spins < 100_000 { spins &+= 1 }  // SR.TXE
        #else
        while Register(address: base &+ 0x04).read() & 1 != 0 && spins < 100_000 { spins &+= 1 }  // STATE.TXFULL
        #endif
    }

    /// Clears the transmit interrupt's request; true when there was one (the last byte left).
    @inline(__always)
    static func acknowledgeTransmitted() -> Bool {
        #if KEEL_UART_NRF51
        let sent = Register(address: base &+ 0x11C).read() != 0  // EVENTS_TXDRDY
        if sent { Register(address: base &+ 0x11C).write(0) }   // cleared: the event is a level, it would interrupt again
        return sent
        #elseif KEEL_UART_STM32
        return false
        #else
        let sent = Register(address: base &+ 0x0C).read() & 1 != 0  // INTSTATUS.TX
        if sent { Register(address: base &+ 0x0C).write(1) }        // write 1 to clear
        return sent
        #endif
    }

    /// The next received byte, or nil when the receiver holds none (its request is cleared).
    @inline(__always)
    static func receivedByte() -> UInt8? {
        #if KEEL_UART_NRF51
        guard Register(address: base &+ 0x108).read() != 0 else { return nil }  // EVENTS_RXDRDY
        Register(address: base &+ 0x108).write(0)                               // cleared before RXD is read: the next byte sets it again
        return UInt8(truncatingIfNeeded: Register(address: base &+ 0x518).read())  // RXD
        #elseif KEEL_UART_STM32
        guard Register(address: base).read() & (1 &<< 5) != 0 else { return nil }  // SR.RXNE
        return UInt8(truncatingIfNeeded: Register(address: base &+ 0x04).read())    // DR (reading clears RXNE)
        #else
        Register(address: base &+ 0x0C).write(1 &<< 1)                           // INTSTATUS.RX cleared
        guard Register(address: base &+ 0x04).read() & (1 &<< 1) != 0 else { return nil }  // STATE.RXFULL
        return UInt8(truncatingIfNeeded: Register(address: base).read())         // DATA (reading clears RXFULL)
        #endif
    }
}
