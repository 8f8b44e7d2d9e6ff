// Interrupt latency above the kernel's ceiling, for `keel bench --only masking`: a zero-latency
// interrupt is made pending inside a critical section of the kernel's kind (BASEPRI at the
// ceiling: it runs at once) and inside one that masks everything (PRIMASK: it waits for the
// section's end). The counter's windows open at the pend and close at the handler's first
// instruction (`keel_zero_latency_9`).
import Keel

let urgentLine = 9
nonisolated(unsafe) var urgentRuns: UInt32 = 0
nonisolated(unsafe) var sink: UInt32 = 0

/// The zero-latency handler (keel.json).
func urgentEntry() { urgentRuns &+= 1 }

/// The window opens here: the pend is this function's first store.
@_silgen_name("keel_bench_start") @inline(never)
func benchStart() { Keel.triggerInterrupt(urgentLine) }

/// What the masked section does after the pend: about as much as the kernel's longest
/// section (a console line), ~1000 instructions; the tick count is a volatile read, so the
/// loop cannot be folded away.
@inline(never)
func work() {
    for index in 0..<200 as Range<UInt32> { sink = sink &+ Keel.ticks &+ index }
}

func mainTask() {
    Keel.withInterruptsMasked { work() }  // warm-up
    Keel.withInterruptsMasked { benchStart(); work() }      // the kernel's masking (BASEPRI)
    Keel.withAllInterruptsMasked { benchStart(); work() }   // every interrupt masked (PRIMASK)
    print("bench-latency: \(urgentRuns) runs")
    Keel.shutdown(code: 0)
}
