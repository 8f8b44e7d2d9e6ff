// Log: the same lines written with `Log` (a record the host formats, a few words of stack)
// and with `print` (String formatting on the target, ~1.2 KB of stack), and two tasks that
// differ only by one two-integer log line, so that `keel stack` shows what that line costs.

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
    // A half-written print line is ended before a record starts.
    print("half", terminator: "")
    Log.info("after half")
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
    Log.info("x \(Keel.ticks) at \(Keel.milliseconds)")
    Keel.exit()
}

/// `pairTask` without the log line.
func bareTask() {
    _ = Keel.ticks
    Keel.exit()
}

/// Something the optimiser cannot fold, for an interpolation without literals.
@inline(never)
func round(_ value: UInt16) -> UInt16 { value &* 3 }
