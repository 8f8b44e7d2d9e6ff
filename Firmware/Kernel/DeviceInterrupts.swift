// Device interrupts: one handler per IRQ line, attached by the application at run time and
// dispatched from the vector table's IRQ entries.
//
// Handlers run on the handler stack (MSP), whose overflow is caught by MSPLIM (ARMv8-M) or
// the MPU guard below it (ARMv7-M) and reported as the handler's, not a task's. Their
// priority must be more urgent than PendSV and SysTick (which are the least urgent) and
// less urgent than the faults (priority 0), so that a fault inside a handler is taken.

typealias InterruptHandler = @convention(c) () -> Void

/// The handler of each line, one word per line of the board (0: none), in .bss: the linker
/// script sizes it from the board's line count (`keel_interrupt_lines`), so one kernel serves
/// a board with 32 lines and one with 128. The port's dispatch reads it by this name (except in
/// an image with split-stack code, which dispatches in Swift below).
@_extern(c, "keel_interrupt_handlers") func interruptHandlerTable()
@_extern(c, "keel_interrupt_lines") func interruptLineCount()

enum InterruptHandlers {
    static var table: UInt32 { linkerSymbol(interruptHandlerTable) }

    static subscript(irq: Int) -> InterruptHandler? {
        get {
            let word = Memory.loadWord(table &+ UInt32(irq) &* 4)
            return word == 0 ? nil : unsafeBitCast(UInt(word), to: InterruptHandler.self)
        }
        set {
            let word = newValue.map { UInt32(UInt(bitPattern: unsafeBitCast($0, to: UnsafeRawPointer.self))) } ?? 0
            Memory.storeWord(table &+ UInt32(irq) &* 4, word)
        }
    }
}

/// Nested Vectored Interrupt Controller (ARMv7-M B3.4; ARMv6-M has the same registers).
enum NVIC {
    static let setEnable = Register(address: 0xE000_E100)
    static let setPending = Register(address: 0xE000_E200)
    static let priorityBase: UInt = 0xE000_E400
    /// The board's external interrupt lines (`Board.interruptLines`, from the linker script).
    static var lines: Int { Int(linkerSymbol(interruptLineCount)) }

    /// ISER/ISPR: 32 lines per word, one bit per line; writing 0 bits changes nothing.
    static func enable(_ irq: Int) {
        Register(address: setEnable.address &+ UInt(irq / 32) &* 4).write(1 &<< UInt32(irq % 32))
    }

    static func pend(_ irq: Int) {
        Register(address: setPending.address &+ UInt(irq / 32) &* 4).write(1 &<< UInt32(irq % 32))
    }

    /// Priority bytes are read-modify-written as words: ARMv6-M allows word access only.
    static func setPriority(_ irq: Int, _ priority: UInt8) {
        let register = Register(address: priorityBase &+ UInt(irq / 4) &* 4)
        let shift = UInt32(irq % 4) &* 8
        register.modify { $0 = ($0 & ~(0xFF &<< shift)) | (UInt32(priority) &<< shift) }
    }
}

enum DeviceInterrupts {
    static func attach(_ irq: Int, priority: UInt8, _ handler: @escaping InterruptHandler) {
        requireLine(irq, "attachInterrupt")
        #if !KEEL_ARMV6M
        if priority < KernelCeiling.basePriority { refuseAboveCeiling(irq, priority) }
        #endif
        let interrupts = Interrupts.mask()
        InterruptHandlers[irq] = handler
        NVIC.setPriority(irq, priority)
        NVIC.enable(irq)
        Interrupts.restore(interrupts)
    }

    static func pend(_ irq: Int) {
        requireLine(irq, "triggerInterrupt")
        NVIC.pend(irq)
        dataSynchronizationBarrier(0xF)
        instructionSynchronizationBarrier(0xF)
    }
}

extension DeviceInterrupts {
    /// A zero-latency interrupt: its line's priority and enable, set once at boot from the
    /// manifest ("zero_latency_interrupts"; the vector table calls its handler directly, with
    /// no dispatch). Before the first task runs, so nothing is masked yet.
    static func enableZeroLatency(_ irq: Int, priority: UInt8) {
        NVIC.setPriority(irq, priority)
        NVIC.enable(irq)
    }

    /// Stops the caller that asks `attachInterrupt` for a priority above the kernel's ceiling:
    /// the kernel would not mask that handler, and the handler would call into a kernel that
    /// may be halfway through changing what it reads.
    static func refuseAboveCeiling(_ irq: Int, _ priority: UInt8) {
        Console.write("attachInterrupt(")
        Console.write(decimal: UInt32(truncatingIfNeeded: irq))
        Console.write(", priority: ")
        Console.write(decimal: UInt32(priority))
        Console.write("): more urgent than the kernel's ceiling 64 (0x40); declare it in keel.json's \"zero_latency_interrupts\"\n")
        fatalError()
    }

    /// Stops the caller at a line the board does not have, after one console line that names
    /// it (`keel build` refuses a constant one; this is a line computed at run time). The trap
    /// then stops the task by its policy, so the fault record follows that line.
    /// (The test inline, one unsigned compare for both ends: `triggerInterrupt` is on the
    /// Thread-Metric interrupt path; the message out of line.)
    @inline(__always)
    static func requireLine(_ irq: Int, _ call: StaticString) {
        if UInt(bitPattern: irq) >= UInt(bitPattern: NVIC.lines) { refuseLine(irq, call) }
    }

    /// Stops the caller that would take the console UART's line from the console (its output
    /// would stop for good), after one line that says so.
    @inline(never)
    static func refuseConsoleLine(_ irq: Int) -> Never {
        Console.write("attachInterrupt(")
        Console.write(decimal: UInt32(truncatingIfNeeded: irq))
        Console.write("): the console UART's line; use another (keel.json's \"console\": {\"output\": 0} keeps the console polled)\n")
        fatalError()
    }

    @inline(never)
    static func refuseLine(_ irq: Int, _ call: StaticString) -> Never {
        Console.write(call)
        Console.write("(")
        if irq < 0 { Console.write("-") }
        Console.write(decimal: UInt32(truncatingIfNeeded: irq < 0 ? 0 &- irq : irq))
        Console.write("): no such interrupt line; this board has lines 0-")
        Console.write(decimal: UInt32(NVIC.lines &- 1))
        Console.write("\n")
        fatalError()
    }
}

#if KEEL_SPLIT_STACK
/// Every device interrupt's vector in an image with split-stack code (elsewhere the port's
/// five-instruction version in assembly).
@_cdecl("keel_interrupt_dispatch")
func interruptDispatch() {
    let irq = Int(portExceptionNumber()) &- 16
    if irq >= 0 && irq < NVIC.lines, let handler = InterruptHandlers[irq] {
        // The application's handler is split code running on the handler stack: give its
        // prologue the handler stack's limit, and `__morestack` a chain that keeps nothing,
        // so a handler that goes too deep is caught (a handler overflow, which resets)
        // instead of taking a task's segment.
        let interrupted = stackLimitWord
        let interruptedChain = runningChainAddress
        stackLimitWord = linkerSymbol(mainStackBottom) &+ SegmentedStacks.slackBytes
        runningChainAddress = SegmentedStacks.handlerChainAddress
        handler()
        runningChainAddress = interruptedChain
        stackLimitWord = interrupted
    } else {
        unexpectedInterrupt()
    }
}
#endif
