// Zero-latency interrupts: a handler more urgent than the kernel's ceiling runs at once, even
// inside the kernel's critical sections, where a handler attached with `attachInterrupt` waits;
// only `withAllInterruptsMasked` holds it off. It is declared in keel.json, its vector calls
// it directly, and it may not call the kernel: `keel check` names a call that does
// (`kernelCallingTick`, which the tests swap in).
import Keel

let urgentLine = 9
let attachedLine = 10

nonisolated(unsafe) var urgentRuns: UInt32 = 0
nonisolated(unsafe) var attachedRuns: UInt32 = 0

/// The zero-latency handler (keel.json): touches only its own counter.
func urgentTick() {
    urgentRuns &+= 1
}

/// What a zero-latency handler must not do: enter the kernel's critical section.
func kernelCallingTick() {
    Keel.withInterruptsMasked { urgentRuns &+= 1 }
}

func workerTask() {
    Keel.attachInterrupt(attachedLine, priority: 0x80) { attachedRuns &+= 1 }
    var urgentInside: UInt32 = 0, attachedInside: UInt32 = 0
    Keel.withInterruptsMasked {
        let urgent = urgentRuns, attached = attachedRuns
        Keel.triggerInterrupt(urgentLine)
        Keel.triggerInterrupt(attachedLine)
        urgentInside = urgentRuns &- urgent
        attachedInside = attachedRuns &- attached
    }
    print("zli: inside the kernel's mask: zero-latency ran \(urgentInside), attached ran \(attachedInside); after it: attached ran \(attachedRuns)")
    var urgentMaskedAll: UInt32 = 0
    Keel.withAllInterruptsMasked {
        let urgent = urgentRuns
        Keel.triggerInterrupt(urgentLine)
        urgentMaskedAll = urgentRuns &- urgent
    }
    print("zli: with every interrupt masked: zero-latency ran \(urgentMaskedAll); after it: \(urgentRuns) runs")
    Keel.sleep(ticks: 2)
    Keel.shutdown(code: 0)
}

/// Asks `attachInterrupt` for a priority above the ceiling: refused, like a line the board lacks.
func greedyTask() {
    Keel.attachInterrupt(11, priority: 0x20) { attachedRuns &+= 1 }
    print("not reached: the priority is above the kernel's ceiling")
}
