// Log: the same lines written with `Log` (a record the host formats, a few words of stack)
// and with `print` (String formatting on the target, ~1.2 KB of stack), and two tasks that
// differ only by one two-integer log line, so that `keel stack` shows what that line costs
// (Tests/KeelIntegrationTests/LogTests.swift also builds them alone to compare flash).
//
// `pair`, `bare` and `chatter` have 256-byte stacks to show how little a log line needs. On
// the micro:bit that is too small for its default T6 (the prologue check keeps a 384-byte
// slack below its limit), so there they name T4 and T5 instead.

import Keel

/// Logs two integers a round, then every kind of argument once, then ends the run.
func loggerTask() {
    var total: UInt32 = 0
    for round in 1...3 {
        total &+= UInt32(round) &* 14
        Log.info("round \(round) total \(total)")
        Keel.sleep(ticks: 1)
    }
    let offset: Int32 = -42
    let small: Int8 = -7
    let big = UInt64(1) << 40 | 5
    let negative: Int64 = -3_000_000_000
    Log.info("signed \(offset) small \(small) wide \(big) \(negative)")
    Log.warning("ready \(true) done \(false)")
    Log.error("status \(hex: UInt32(0xBEEF)) mask \(hex: UInt8(0x0F)) byte \(hex: small)")
    Log.info("plain literal")
    Log.info("x")
    Log.info("\(round(7))\(round(8))")
    Log.info("a long line that needs more than one console line: \(UInt32.max) \(Int32.min) \(UInt32.max) \(Int32.min) \(UInt32.max) \(Int32.min) \(UInt32.max) end")
    Log.info("task \(Keel.task(0).name) of \(Keel.taskCount)")
    // A half-written print line is ended before a record starts.
    print("half", terminator: "")
    Log.info("after half")
    // Handlers share the kernel's line. A record there is written with interrupts masked, so
    // the more urgent handler its argument makes pending runs after the record, not inside it.
    Keel.attachInterrupt(4, priority: 0x80, outerHandler)
    Keel.attachInterrupt(5, priority: 0x40, nestedHandler)
    Keel.triggerInterrupt(4)
    // A task's record is in the task's own line: the handler that preempts it in the middle
    // writes its own line first, and the task's record goes on undisturbed.
    Log.info("task record \(pendNested()) done")
    Keel.sleep(ticks: 5)  // the printer goes first
    Keel.shutdown(code: 0)
}

/// The same two-integer line with `print`, for comparison.
func printerTask() {
    var total: UInt32 = 0
    for round in 1...3 {
        total &+= UInt32(round) &* 14
        print("round \(round) total \(total)")
        Keel.sleep(ticks: 1)
    }
    Keel.exit()
}

/// Only the two-integer log line, then exit: its worst-case stack is the log call's.
func pairTask() {
    Log.info("x \(Keel.taskCount) at \(Keel.ticks)")
    Keel.exit()
}

/// `pairTask` with `print` instead of `Log` (not in the manifest: the test builds it alone to
/// compare flash).
func printPairTask() {
    print("x \(Keel.taskCount) at \(Keel.ticks)")
    Keel.exit()
}

/// `pairTask` without the log line.
func bareTask() {
    _ = (Keel.taskCount, Keel.ticks)
    Keel.exit()
}

/// Waits for the next tick in the middle of each record, so the more urgent tasks that the
/// tick wakes run (and print and log) while its record is half-written in its line.
func chatterTask() {
    for index in 1...5 { Log.info("chatter \(index) across a tick \(untilNextTick())") }
    Keel.exit()
}

@inline(never)
func untilNextTick() -> Bool {
    let start = Keel.ticks
    while Keel.ticks == start {}
    return true
}

func outerHandler() { Log.info("outer handler \(pendNested()) done") }

func nestedHandler() { Log.info("nested handler \(Keel.taskCount)") }

/// Makes the more urgent handler pending, then returns 7.
@inline(never)
func pendNested() -> UInt32 {
    Keel.triggerInterrupt(5)
    return 7
}

/// Something the optimiser cannot fold, for an interpolation without literals.
@inline(never)
func round(_ value: UInt16) -> UInt16 { value &* 3 }
