// The seam between the portable kernel and the per-architecture port (Firmware/Port/<arch>/).
//
// Every port exports exactly these C symbols, written in assembly because each one reads or
// writes a special register or executes an instruction Swift cannot emit (cpsid, mrs, svc,
// bkpt). The critical sections and the exception number, on every service call's path, are
// the exception: one inline asm statement each (Port/include/KeelRegisters.h), so that they
// cost their two instructions, not a call. Nothing else in the kernel touches a core register.

import KeelRegisters
/// PRIMASK: every interrupt, the zero-latency ones too (r0 = the previous PRIMASK).
@_extern(c, "keel_interrupts_mask_all")
func portMaskAllInterrupts() -> UInt32
@_extern(c, "keel_interrupts_restore_all")
func portRestoreAllInterrupts(_ primask: UInt32)
/// Semihosting call: r0 = operation, r1 = argument; returns r0.
@_extern(c, "keel_semihosting_call")
func portSemihostingCall(_ operation: UInt32, _ argument: UInt32) -> UInt32
/// The active exception number (IPSR), 0 in thread mode.
@inline(__always) func portExceptionNumber() -> UInt32 { UInt32(keel_inline_exception_number()) }
/// PSP = `stackPointer` (used to restart a task from its own fault handler); on ARMv8-M
/// PSPLIM = `limit` too, set around the move so that neither value faults against the other.
@_extern(c, "keel_set_process_stack")
func portSetProcessStack(_ stackPointer: UInt32, _ limit: UInt32)
/// The current PSP.
@_extern(c, "keel_process_stack")
func portProcessStack() -> UInt32
/// MSPLIM = `limit` on ARMv8-M; nothing elsewhere.
@_extern(c, "keel_set_main_stack_limit")
func portSetMainStackLimit(_ limit: UInt32)
/// MSP = the top of the handler stack, then calls `function`, which must never return.
@_extern(c, "keel_call_on_fresh_main_stack")
func portCallOnFreshMainStack(_ function: @convention(c) () -> Void)
/// Enters the first task through an SVC; never returns.
@_extern(c, "keel_start_first_task")
func portStartFirstTask()

@_silgen_name("llvm.arm.dsb") func dataSynchronizationBarrier(_ option: Int32)
@_silgen_name("llvm.arm.dmb") func dataMemoryBarrier(_ option: Int32)
@_silgen_name("llvm.arm.isb") func instructionSynchronizationBarrier(_ option: Int32)
@_silgen_name("llvm.arm.hint") func hint(_ number: Int32)

/// The kernel's critical sections: BASEPRI at the kernel's ceiling on ARMv7-M/v8-M Mainline
/// (zero-latency interrupts above it still run), PRIMASK on ARMv6-M. `mask` returns what to
/// give `restore`: 0 when nothing was masked.
@usableFromInline
enum Interrupts {
    @usableFromInline @inline(__always) static func mask() -> UInt32 { UInt32(keel_inline_mask()) }
    @usableFromInline @inline(__always) static func restore(_ state: UInt32) { keel_inline_restore(CUnsignedInt(state)) }
    /// `mask()` where interrupts are known to be unmasked (a task back from a wait): one
    /// instruction less, as there is nothing to read and give back.
    @inline(__always) static func maskUnmasked() { keel_inline_mask_unmasked() }

    /// `mask()`, and whether the caller is an exception handler: the two things a call only a
    /// task may make checks first.
    @inline(__always) static func maskReadingMode() -> (interrupts: UInt32, inHandler: Bool) {
        (mask(), Processor.isInHandlerMode)
    }
}

#if !(KEEL_ARMV6M || KEEL_THUMB1)
/// One word updated without masking (LDREX/STREX, ARMv7-M and ARMv8-M Mainline): `load`,
/// compute, `store`; a store that returns false lost a race with an interrupt (or a switch)
/// and the update starts again from `load`.
@usableFromInline
enum ExclusiveAccess {
    @usableFromInline @inline(__always)
    static func load(_ word: UnsafeMutablePointer<UInt32>) -> UInt32 { UInt32(keel_inline_load_exclusive(word)) }
    @usableFromInline @inline(__always)
    static func store(_ value: UInt32, to word: UnsafeMutablePointer<UInt32>) -> Bool { keel_inline_store_exclusive(value, word) == 0 }
    /// After a `load` that no `store` follows.
    @usableFromInline @inline(__always)
    static func clear() { keel_inline_clear_exclusive() }
}
#endif

enum Processor {
    /// Asks for PendSV and takes it before the next instruction (when nothing masks it):
    /// a task switching away now (yield, sleep, stop).
    @inline(__always)
    static func requestContextSwitch() {
        pendContextSwitch()
        instructionSynchronizationBarrier(0xF)  // PendSV is taken before the next instruction
    }

    /// Asks for PendSV, to be taken when interrupts are unmasked or the running handler
    /// returns: a wake-up or a wait, both made with interrupts masked (an ISB would change
    /// nothing there, so the services' paths leave it out).
    @inline(__always)
    static func pendContextSwitch() {
        #if KEEL_ARMV6M
        // ARMv6-M has no atomic instructions, so a `_Volatile` store (an atomic one) becomes a
        // call to `__atomic_store_4`: four instructions more on every switch. A plain store is
        // enough here. Sound: the address comes from an integer, so the compiler cannot prove
        // it unused, and the barrier right after is an opaque intrinsic that may read any
        // memory, so the store can be neither removed, merged with another, nor moved past it.
        UnsafeMutablePointer<UInt32>(bitPattern: SystemControl.interruptControlState.address)
            .unsafelyUnwrapped.pointee = SystemControl.pendSVSet
        #else
        SystemControl.interruptControlState.write(SystemControl.pendSVSet)
        #endif
        dataSynchronizationBarrier(0xF)  // the write reaches the NVIC
    }

    @inline(__always)
    static func waitForInterrupt() { hint(3) }  // WFI

    static var isInHandlerMode: Bool { portExceptionNumber() != 0 }

    static func requestSystemReset() -> Never {
        dataSynchronizationBarrier(0xF)
        SystemControl.applicationInterruptReset.write(0x05FA_0004)  // VECTKEY | SYSRESETREQ
        dataSynchronizationBarrier(0xF)
        while true { waitForInterrupt() }
    }
}
