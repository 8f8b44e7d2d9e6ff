// A memory-mapped 32-bit register: one volatile load or store per access.
//
// Raw addresses appear only where registers are declared (SystemControl.swift).
// `modify` is exactly one read and one write, as in swift-mmio.

import _Volatile

struct Register {
    let address: UInt

    @inline(__always)
    func read() -> UInt32 {
        // Sound: `address` is a device register the ARMv6/7/8-M architecture defines
        // at this fixed location on every Cortex-M core.
        unsafe VolatileMappedRegister<UInt32>(unsafeBitPattern: address).load()
    }

    @inline(__always)
    func write(_ value: UInt32) {
        unsafe VolatileMappedRegister<UInt32>(unsafeBitPattern: address).store(value)
    }

    @inline(__always)
    func modify(_ change: (inout UInt32) -> Void) {
        var value = read()
        change(&value)
        write(value)
    }
}
