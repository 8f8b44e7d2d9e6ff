// The kernel's critical sections, exclusive access and the exception number, inlined where
// they are used.
//
// Why C, not Swift or the port's assembly: Swift cannot emit MRS, MSR or CPSID, and a call
// to an assembly routine costs its BL and BX, the argument moves and the registers a call
// clobbers, on every service call (a mask and a restore cost 10-14 instructions more out of
// line than inline: `keel bench --only ipc`). Swift reaches LDREX/STREX only inside an
// atomic compare-and-swap loop (a compare more than a pool's update needs), and LLVM's
// ldrex/strex intrinsics need an `elementtype` attribute Swift cannot give. A static inline
// function made of one asm statement (or one builtin) is inlined by LLVM into the Swift code
// that calls it, in the kernel and in the fast paths an application inlines (`@inlinable`).
// Nothing else here is C.
//
// Every mask and restore clobbers "memory": no load or store the compiler sees may move
// across it (that is what makes the section critical).
//
// The build defines which core the code is for (FirmwareBuilder.compileConditions):
//   KEEL_ARMV6M          PRIMASK masks every interrupt (the M0 has no BASEPRI);
//   KEEL_THUMB1 alone    Thumb-1 code on an ARMv7-M/v8-M core (the bench's Thumb-1 routes):
//                        MSR BASEPRI has no Thumb-1 encoding, so the port's routines are called;
//   otherwise            BASEPRI at the kernel's ceiling (KEEL_KERNEL_CEILING): interrupts
//                        more urgent than it (zero-latency ones) still run.

#ifndef KEEL_REGISTERS_H
#define KEEL_REGISTERS_H

#if defined(KEEL_ARMV6M)

/// PRIMASK before, then every interrupt masked.
static inline __attribute__((always_inline)) unsigned keel_inline_mask(void) {
    unsigned previous;
    __asm__ volatile("mrs %0, primask\n\t"   // previous = PRIMASK
                     "cpsid i"               // PRIMASK = 1
                     : "=r"(previous) : : "memory");
    return previous;
}

/// PRIMASK = `previous` (what `keel_inline_mask` returned).
static inline __attribute__((always_inline)) void keel_inline_restore(unsigned previous) {
    __asm__ volatile("msr primask, %0" : : "r"(previous) : "memory");
}

static inline __attribute__((always_inline)) void keel_inline_mask_unmasked(void) {
    __asm__ volatile("cpsid i" : : : "memory");   // PRIMASK = 1
}

#elif defined(KEEL_THUMB1)

unsigned keel_interrupts_mask(void);          // Port/armv7m/Port.S
void keel_interrupts_restore(unsigned previous);
static inline __attribute__((always_inline)) unsigned keel_inline_mask(void) { return keel_interrupts_mask(); }
static inline __attribute__((always_inline)) void keel_inline_restore(unsigned previous) { keel_interrupts_restore(previous); }
static inline __attribute__((always_inline)) void keel_inline_mask_unmasked(void) { (void)keel_interrupts_mask(); }

#else

/// BASEPRI before (0: nothing was masked), then BASEPRI raised to the kernel's ceiling
/// (BASEPRI_MAX leaves a stricter mask in place, so a nested section never loosens it).
static inline __attribute__((always_inline)) unsigned keel_inline_mask(void) {
    unsigned previous;
    __asm__ volatile("mrs %0, basepri\n\t"   // previous = BASEPRI
                     "msr basepri_max, %1"   // BASEPRI = ceiling, unless already stricter
                     : "=&r"(previous) : "r"(KEEL_KERNEL_CEILING) : "memory");
    return previous;
}

/// BASEPRI = `previous` (what `keel_inline_mask` returned).
static inline __attribute__((always_inline)) void keel_inline_restore(unsigned previous) {
    __asm__ volatile("msr basepri, %0" : : "r"(previous) : "memory");
}

/// BASEPRI = the ceiling, from unmasked (0): `keel_inline_mask` without reading what it replaces.
static inline __attribute__((always_inline)) void keel_inline_mask_unmasked(void) {
    __asm__ volatile("msr basepri_max, %0" : : "r"(KEEL_KERNEL_CEILING) : "memory");
}

#endif

#if !defined(KEEL_ARMV6M) && !defined(KEEL_THUMB1)

// Exclusive access (LDREX/STREX/CLREX): an update of one word that needs no masking. A
// store fails (returns 1) when anything touched the word, or an exception was taken, since
// the load; the caller loads and tries again. ARMv6-M has no exclusive access.

/// LDREX: the word, and the monitor armed for it.
static inline __attribute__((always_inline)) unsigned keel_inline_load_exclusive(unsigned *word) {
    return __builtin_arm_ldrex(word);
}

/// STREX: 0 when `value` was stored, 1 when the update must be tried again.
static inline __attribute__((always_inline)) unsigned keel_inline_store_exclusive(unsigned value, unsigned *word) {
    return __builtin_arm_strex(value, word);
}

/// CLREX: forget a load that no store follows.
static inline __attribute__((always_inline)) void keel_inline_clear_exclusive(void) {
    __builtin_arm_clrex();
}

#endif

/// The active exception number (IPSR): 0 in a task, 16 + n in device interrupt n.
static inline __attribute__((always_inline)) unsigned keel_inline_exception_number(void) {
    unsigned number;
    __asm__ volatile("mrs %0, ipsr" : "=r"(number));
    return number;
}

#endif
