// The board's hardware timer as an interrupt source: a periodic interrupt at a rate the
// application asks for, from a device, not from a task (`Keel.triggerInterrupt`).
//
// Which timer, where and how fast it counts are board facts (`Board.timer`, host side),
// reached through linker symbols like the console's; which register model it has is a build
// condition: KEEL_TIMER_CMSDK (Arm's CMSDK APB timer: the MPS2 boards' TIMER0, the MPS3
// AN547's 32 kHz S32K timer), KEEL_TIMER_NRF51 (the nRF51's TIMER0), KEEL_TIMER_STM32 (an
// STM32 general-purpose timer, TIM2). Each is a few registers (TimerDevices.swift, one enum each).
//
// The timer's line is attached like any other (`DeviceInterrupts.attach`): the kernel's own
// handler acknowledges the device, counts, and calls the application's.

@_extern(c, "keel_timer_base") func timerBase()
@_extern(c, "keel_timer_line") func timerLine()
@_extern(c, "keel_timer_clock") func timerClock()

/// The board's hardware timer (`Board.timer`; the README's table lists each board's). The
/// application's handler runs in the timer's interrupt, at the priority it asks for, like an
/// attached handler.
public enum DeviceTimer {
    /// The timer's interrupt line (attach nothing else there while it runs).
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static var interruptLine: Int { Int(linkerSymbol(timerLine)) }

    /// The rate the timer counts at, in hertz (a board fact: the clock QEMU and the part give it).
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static var clockHertz: UInt32 { linkerSymbol(timerClock) }

    /// Interrupts the timer has raised since `start` (a fresh read each time: a task may poll it).
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static var interrupts: UInt32 {
        Register(address: withUnsafeMutablePointer(to: &timerInterrupts) { UInt(bitPattern: $0) }).read()
    }

    /// Starts the timer interrupting `hertz` times a second (every `clockHertz / hertz` clock
    /// ticks, rounded down), running `handler` each time in its interrupt at `priority` (as
    /// `attachInterrupt`: not more urgent than the kernel's ceiling). A rate the clock cannot
    /// give (0, or above half the clock) is a trap naming the call. Restarting replaces the
    /// rate and the handler, and counts `interrupts` from 0 again.
    /// Blocks: no. From: a task or a handler. Stack: leaf.
    public static func start(hertz: UInt32, priority: UInt8 = 0x80, _ handler: @escaping @convention(c) () -> Void) {
        precondition(hertz > 0 && clockHertz / hertz >= 2, "DeviceTimer.start: a rate the timer's clock cannot give")
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        TimerDevice.stop()
        timerHandler = handler
        timerInterrupts = 0
        DeviceInterrupts.attach(interruptLine, priority: priority, timerInterrupt)
        TimerDevice.start(period: clockHertz / hertz)
    }

    /// Stops the timer; its handler runs no more. Blocks: no. From: anywhere. Stack: leaf.
    public static func stop() {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        TimerDevice.stop()
    }
}

nonisolated(unsafe) var timerHandler: (@convention(c) () -> Void)? = nil
nonisolated(unsafe) var timerInterrupts: UInt32 = 0

/// The timer line's handler: acknowledges the device (its request is a level that would
/// take the interrupt again), counts, and runs the application's.
@_cdecl("keel_timer_interrupt")
func timerInterrupt() {
    TimerDevice.acknowledge()
    timerInterrupts &+= 1
    timerHandler?()
}
