// What a `Log` record costs the core, for `keel bench --only log`: 32 records of two integers
// each between two markers, then two ticks' sleep in which the UART sends what is queued;
// then the same loop without the records. The difference over 32 is one record's cost with
// everything it brings: the copy into the line, the ring or the RTT channel, and on the UART
// every byte's transmit interrupt, or the polled send. The bench builds it three ways: the
// console's ring, the console polled ("console": {"output": 0}), and RTT ("log": "rtt").
import Keel

nonisolated(unsafe) var sink: UInt32 = 0
let records: UInt32 = 32  // LogChannelBench.records

/// The window opens at this function's first instruction.
@_silgen_name("keel_bench_start") @inline(never)
func benchStart() { sink &+= 1 }

/// The window closes at this function's first instruction.
@_silgen_name("keel_bench_stop") @inline(never)
func benchStop() { sink &+= 2 }  // not the same code as benchStart: folded, they would share an address

/// One pass: `records` rounds, each logging a record when `logging` (the same loop otherwise).
@inline(never)
func pass(logging: Bool) {
    Keel.sleep(ticks: 1)  // from a tick's start
    benchStart()
    for round in 0..<records {
        if logging { Log.info("sample \(round) value \(round &* 7)") } else { sink &+= round }
    }
    Keel.sleep(ticks: 2)  // the UART sends what is queued
    benchStop()
}

func mainTask() {
    pass(logging: true)
    pass(logging: false)
    Keel.shutdown(code: 0)
}
