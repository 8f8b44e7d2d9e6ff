// An idle second, for `keel bench --only idle`: the only task sleeps 1000 ticks (a second at
// 1 kHz) between two markers, so the counter's window holds what the core executes while
// every task waits, and the exceptions it takes: the tick and its switch request every
// millisecond when the kernel ticks, a few when the idle task stops the tick (tickless idle,
// Firmware/Kernel/TicklessIdle.swift). The bench builds it both ways ("tickless": true and
// false) and reads how late the task woke, in ticks.
import Keel

nonisolated(unsafe) var sink: UInt32 = 0

/// The window opens at this function's first instruction.
@_silgen_name("keel_bench_start") @inline(never)
func benchStart() { sink &+= 1 }

/// The window closes at this function's first instruction.
@_silgen_name("keel_bench_stop") @inline(never)
func benchStop() { sink &+= 2 }  // not the same code as benchStart: folded, they would share an address

func mainTask() {
    Keel.sleep(ticks: 1)  // from a tick's start
    let before = Keel.ticks
    benchStart()
    Keel.sleep(ticks: 1000)
    benchStop()
    print("bench-idle: late=\(Keel.ticks &- before &- 1000) sleeps=\(Keel.ticklessSleeps) slept=\(Keel.ticksSlept)")
    Keel.shutdown(code: 0)
}
