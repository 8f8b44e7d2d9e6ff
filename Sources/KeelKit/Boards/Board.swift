// A board Keel can build for and run under QEMU: its memory map, core, toolchain flags and stack hardware.
//
// Board facts are data: the catalogue (BoardCatalog.swift) is a table of these values, and
// nothing else in Keel branches on a board's name, only on these fields.

import Foundation

public struct MemoryRegion: Sendable, Codable, Equatable {
    public var origin: UInt32
    public var length: UInt32
    public var end: UInt64 { UInt64(origin) + UInt64(length) }

    public init(origin: UInt32, length: UInt32) {
        self.origin = origin
        self.length = length
    }
}

/// The architecture profile; it selects the port folder (Firmware/Port/<rawValue>).
public enum Architecture: String, Sendable, Codable {
    case armv6m, armv7m, armv8m
}

public enum MPUKind: String, Sendable, Codable {
    case none
    /// ARMv7-M PMSA: power-of-two regions aligned to their size, 8 sub-regions, highest number wins.
    case pmsav7
    /// ARMv8-M PMSA: base/limit regions on 32-byte granularity, no overlap.
    case pmsav8

    /// The architecture manual's name: "PMSAv7", "PMSAv8".
    public var displayName: String {
        switch self {
        case .none: "none"
        case .pmsav7: "PMSAv7"
        case .pmsav8: "PMSAv8"
        }
    }
}

/// Whose peripheral models a board's console and timer are: the register layout the kernel
/// builds for (`KEEL_UART_*`, `KEEL_TIMER_*`).
public enum PeripheralKind: String, Sendable, Codable {
    /// Arm's CMSDK APB parts (the MPS2/MPS3 boards). UART: DATA, STATE (TX full), CTRL (TX
    /// enable), BAUDDIV. Timer: CTRL, VALUE, RELOAD (counts down), INTSTATUS.
    case cmsdk
    /// Nordic's nRF51. UART: STARTTX/RX, TXD/RXD, EVENTS_TXDRDY/RXDRDY, INTENSET, ENABLE, PSELTXD/RXD, BAUDRATE. TIMER:
    /// tasks, EVENTS_COMPARE[0], SHORTS, INTENSET, BITMODE, PRESCALER, CC[0].
    case nrf51
    /// ST's STM32F2/F4. USART: SR (TXE), DR, BRR, CR1 (UE, TE). General-purpose timer: CR1,
    /// DIER, SR, ARR (counts up to ARR).
    case stm32
}

/// The serial port the console writes to: the same bytes reach a real board's pins and
/// QEMU's `-serial`.
public struct ConsolePort: Sendable, Codable, Equatable {
    public var kind: PeripheralKind
    public var base: UInt32
    /// What the kernel writes to the baud-rate register: CMSDK divides the clock by it;
    /// nRF51 takes a rate code (0x01D7E000 is 115200 baud); STM32 a 12.4 fixed-point divider.
    public var baudSetting: UInt32
    /// The pin TXD goes out on: nRF51 PSELTXD (the micro:bit's USB serial is P0.24), STM32 PA<n> in
    /// alternate function 7 (PA9 is USART1_TX). Unused for CMSDK.
    public var transmitPin: UInt32
    /// The pin RXD comes in on: nRF51 PSELRXD (the micro:bit's USB serial is P0.25), STM32
    /// PA<n> (PA10 is USART1_RX). Unused for CMSDK.
    public var receivePin: UInt32
    /// The NVIC lines it raises for a received byte and for a sent one (the same line on a
    /// part with one interrupt per UART: the nRF51, the STM32).
    public var receiveLine: Int
    public var transmitLine: Int
    /// Whether its transmit interrupt can drain the console's ring. Not on the STM32 under
    /// QEMU 7.2, whose USART model never raises TXE/TC: there lines go out polled.
    public var transmitInterrupt = true
}

/// The hardware timer `DeviceTimer` drives: a periodic interrupt from a device.
public struct DeviceTimerPort: Sendable, Codable, Equatable {
    /// CMSDK: the MPS2 boards' TIMER0, the SSE-300's S32K timer on the AN547.
    public var kind: PeripheralKind
    public var base: UInt32
    /// Its NVIC line (IRQ n, vector 16 + n).
    public var line: Int
    /// What it counts at under QEMU, in hertz (on a part: what its clock tree gives it at reset).
    public var clockHertz: UInt32
}

/// A watchdog the kernel feeds while every task with a deadline checks in (`Keel.checkIn`):
/// Arm's CMSDK APB watchdog, whose first expiry raises NMI and whose second resets.
public struct WatchdogPort: Sendable, Codable, Equatable {
    public var base: UInt32
    /// WDOGCLK under QEMU, in hertz.
    public var clockHertz: UInt32
}

/// A core's floating-point unit, and what the toolchain needs to use it.
public struct FloatingPointUnit: Sendable, Codable, Equatable {
    /// Arm's name for it: "FPv4-SP", "FPv5-D16", ...
    public var name: String
    /// clang's `-mfpu` for it (and `-Xcc -mfpu` for swiftc).
    public var clangFPU: String
    /// Double precision in hardware (a `Double` is two-register VFP code, not a libgcc call).
    public var doublePrecision: Bool
    /// Debian gcc-arm-none-eabi multilib folder whose libgcc.a follows the hard-float ABI.
    public var hardFloatMultilib: String
}

public struct Board: Sendable, Codable, Equatable {
    public var name: String
    public var summary: String
    public var cpu: String
    public var architecture: Architecture
    /// The Embedded Swift target triple (a standard library exists for it).
    public var swiftTarget: String
    /// The clang triple for IR and assembly.
    public var clangTarget: String
    /// Debian gcc-arm-none-eabi multilib folder whose libgcc.a supplies the compiler helpers.
    public var libgccMultilib: String
    public var flash: MemoryRegion
    public var ram: MemoryRegion
    public var mpu: MPUKind
    public var mpuRegions: Int
    /// PSPLIM/MSPLIM (ARMv8-M Mainline).
    public var hasStackLimitRegisters: Bool
    public var qemuMachine: String
    /// SysTick's processor clock under QEMU.
    public var clockHertz: UInt32
    /// SysTick's reference clock (CLKSOURCE 0), where the part has one slower than the core's:
    /// the STM32F4's HCLK / 8. Tickless idle sleeps on it, so that one sleep of SysTick's 24
    /// bits reaches eight times as far (99 ticks at 168 MHz and 1 kHz, 798 on it). Nil: the
    /// core clock only.
    public var sysTickReferenceHertz: UInt32? = nil
    public var console: ConsolePort
    /// The hardware timer `DeviceTimer` drives.
    public var timer: DeviceTimerPort
    /// The watchdog, where QEMU models one wired to NMI (the MPS2 boards); nil elsewhere.
    public var watchdog: WatchdogPort? = nil
    /// The FPU, nil when the core has none. Images use it with the hard-float ABI unless the
    /// manifest says `"float": "soft"`.
    public var fpu: FloatingPointUnit?
    /// The NVIC's external interrupt lines the part has (IRQ 0 ..< this).
    public var interruptLines: Int
    /// Extensions turned off on the CPU for clang and swiftc (`-mcpu=<cpu><this>`): "+nomve"
    /// on the M55, whose vector extension the compiler would otherwise use for integer loops,
    /// making integer tasks FP ones (extended frames, s16-s31 saved) and their frames larger.
    public var cpuExtensions: String = ""
    /// Implemented priority bits of the part (the top bits of each priority byte). QEMU 7.2
    /// models 8 on every v7-M/v8-M core; the kernel's priorities use only the top bits the
    /// real part has, so they mean the same on the board.
    public var priorityBits: Int
}

extension Board {
    /// How many core clocks one count of the clock tickless idle sleeps on takes, as a power
    /// of two (a shift: the M0 has no divide instruction, and idle converts between the two
    /// clocks at every sleep): the reference clock's divisor where it is a power of two that
    /// divides a tick's clocks exactly (so no tick is lost to rounding), else 0 (the core clock).
    public func sleepClockShift(tickHertz: Int) -> Int {
        guard let reference = sysTickReferenceHertz, reference > 0, tickHertz > 0, clockHertz % reference == 0 else { return 0 }
        let divisor = Int(clockHertz / reference)
        guard divisor > 1, divisor & (divisor - 1) == 0, (Int(clockHertz) / tickHertz) % divisor == 0 else { return 0 }
        return divisor.trailingZeroBitCount
    }

    /// True when `application` is built with the FPU and the hard-float ABI.
    public func usesHardFloat(_ float: FloatABI) -> Bool { fpu != nil && float == .hard }

    /// The float ABI an application gets on this board when its manifest names none.
    public var defaultFloat: FloatABI { fpu == nil ? .soft : .hard }

    /// What a task that names no protection gets: the strongest the board has, plus painting.
    /// T1 stops an overflow before it writes and T2 stops stray writes into other stacks. A
    /// core without either gets T6, the prologue check, which refuses a call whose frame would
    /// not fit before a byte of it is written, and keeps T4 and T5 behind it for the code
    /// that runs without the check (whose overflows the kernel contains by stopping every task
    /// whose stack was written).
    public var defaultProtections: Set<Protection> {
        if hasStackLimitRegisters { return [.paint, .limitRegister, .mpuRegion] }
        if mpu != .none { return [.paint, .mpuRegion] }
        return [.paint, .prologueCheck, .redZone, .stackPointerCheck]
    }

    /// True when `protections` include a technique that stops a write before it happens.
    public func stopsWritesBeforeTheyHappen(_ protections: Set<Protection>) -> Bool {
        !protections.isDisjoint(with: [.limitRegister, .mpuRegion, .mpuGuard, .prologueCheck])
    }
}

/// How an image computes with floating point: on the FPU, arguments in s/d registers
/// (`hard`), or in integer code from libgcc (`soft`, every board; the only one without an FPU).
public enum FloatABI: String, Sendable, Codable, CaseIterable {
    case hard, soft
}
