// Arm's CMSDK APB watchdog (Arm DDI 0479, 4.5), on the MPS2 boards at 0x40008000: a 32-bit
// counter that counts down from LOAD at WDOGCLK. At zero it raises its interrupt (wired to
// NMI on the MPS2) and reloads; at zero again with the interrupt still raised, it resets the
// system. Writing INTCLR clears the interrupt and reloads the counter: that is the feed.
//
// LOAD 0x000, VALUE 0x004, CONTROL 0x008 (bit 0 INTEN, bit 1 RESEN), INTCLR 0x00C,
// LOCK 0xC00 (0x1ACCE551 unlocks the other registers; any other value locks them).

#if KEEL_WATCHDOG_CMSDK
@_extern(c, "keel_watchdog_base") func watchdogBase()
@_extern(c, "keel_watchdog_clock") func watchdogClock()

enum WatchdogDevice {
    static var base: UInt { UInt(linkerSymbol(watchdogBase)) }
    static let unlockKey: UInt32 = 0x1ACC_E551

    /// Starts counting: the interrupt (NMI) after `ticks` of WDOGCLK without a feed, the
    /// reset after as many again.
    static func start(clockTicks: UInt32) {
        Register(address: base &+ 0xC00).write(unlockKey)   // LOCK: open
        Register(address: base).write(clockTicks)             // LOAD
        Register(address: base &+ 0x008).write(0b11)          // CONTROL: INTEN, RESEN
        Register(address: base &+ 0xC00).write(0)             // LOCK: closed again
    }

    /// Reloads the counter (and clears an interrupt already raised).
    @inline(__always)
    static func feed() {
        Register(address: base &+ 0xC00).write(unlockKey)
        Register(address: base &+ 0x00C).write(1)             // INTCLR
        Register(address: base &+ 0xC00).write(0)
    }

    /// WDOGCLK in hertz (`Board.watchdog`).
    static var clockHertz: UInt32 { linkerSymbol(watchdogClock) }
}
#endif
