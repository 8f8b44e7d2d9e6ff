// Stream buffers: an interrupt handler writes a byte at a time and the reader wakes once per
// trigger's worth; a timeout returns a partial read, and throws only when nothing came; a
// full buffer takes what fits, and a blocked writer goes on when the reader drains it; and
// 3000 bytes go through a small buffer in order.
//
// `reader` (more urgent) checks; `writer` raises the receive interrupt and fills `bulk`.

import Keel

nonisolated(unsafe) var nextByte: UInt8 = 0
nonisolated(unsafe) var wakeUps = 0

/// What a UART's receive handler does: one byte into `rx`.
func receiveInterrupt() {
    _ = rx.tryWrite(nextByte)
    nextByte &+= 1
}

func readerTask() {
    runChecks()
    Keel.shutdown(code: 0)
}

/// The checks, in a frame of their own: the shutdown's report then runs from `readerTask`'s small
/// frame, within the slack a prologue-checked task keeps below its limit (the micro:bit's default).
@inline(never)
func runChecks() {
    var buffer = InlineArray<16, UInt8>(repeating: 0)
    Keel.attachInterrupt(5, receiveInterrupt)
    // Trigger 4: six single-byte interrupts, one wake-up for the first four.
    var got = 0
    withUnsafeMutableBytes(of: &buffer) { got = try! rx.read(into: $0) }
    print("streams: woke once with \(got) bytes (\(buffer[0]) \(buffer[1]) \(buffer[2]) \(buffer[3])) after \(nextByte) interrupts")

    // Two more came (6 in all); fewer than the trigger: the timeout returns them.
    Keel.sleep(ticks: 2)
    var start = Keel.ticks
    withUnsafeMutableBytes(of: &buffer) { got = (try? rx.read(into: $0, timeout: .ticks(5))) ?? -1 }
    print("streams: partial read of \(got) bytes (\(buffer[0]) \(buffer[1])) after \(Keel.ticks &- start) of 5 ticks")

    // Nothing there: TimedOut after exactly the timeout.
    start = Keel.ticks
    var timedOut = false
    withUnsafeMutableBytes(of: &buffer) { timedOut = (try? rx.read(into: $0, timeout: .ticks(3))) == nil }
    print("streams: empty read \(timedOut ? "timed-out" : "got bytes") after \(Keel.ticks &- start) of 3")

    // A reader asking for fewer bytes than the trigger wakes when those are there.
    var two = InlineArray<2, UInt8>(repeating: 0)
    wantTwo = true
    withUnsafeMutableBytes(of: &two) { got = try! rx.read(into: $0) }
    print("streams: a 2-byte read woke with \(got) after \(nextByte &- 6) interrupts")

    // Full: what fits goes in; a write with a timeout gives up when nothing fits.
    var twenty = InlineArray<20, UInt8>(repeating: 7)
    let first = withUnsafeBytes(of: &twenty) { bulk.tryWrite($0) }
    let second = withUnsafeBytes(of: &twenty) { bulk.tryWrite($0) }
    start = Keel.ticks
    timedOut = false
    withUnsafeBytes(of: &twenty) { timedOut = (try? bulk.write($0, timeout: .ticks(2))) == nil }
    print("streams: a 24-byte buffer took \(first) then \(second) of 20, then a write \(timedOut ? "timed-out" : "wrote") after \(Keel.ticks &- start) of 2")
    var drain = InlineArray<24, UInt8>(repeating: 0)
    withUnsafeMutableBytes(of: &drain) { _ = bulk.tryRead(into: $0) }

    // 3000 bytes from `writer` through the 24-byte `bulk`, read 5 at a time: all, in order.
    streamMayStart = true
    var expected: UInt8 = 0
    var total = 0
    var inOrder = true
    var five = InlineArray<5, UInt8>(repeating: 0)
    while total < 3000 {
        let count = withUnsafeMutableBytes(of: &five) { try! bulk.read(into: $0) }
        for index in 0..<count {
            if five[index] != expected { inOrder = false }
            expected &+= 1
        }
        total += count
    }
    print("streams: \(total) bytes through a 24-byte buffer, in order \(inOrder), left \(bulk.count)")
}

nonisolated(unsafe) var wantTwo = false
nonisolated(unsafe) var streamMayStart = false

func writerTask() {
    for _ in 0..<6 {
        Keel.triggerInterrupt(5)
        Keel.sleep(ticks: 1)
    }
    while !wantTwo { Keel.sleep(ticks: 1) }
    Keel.sleep(ticks: 1)
    for _ in 0..<3 {
        Keel.triggerInterrupt(5)
        Keel.sleep(ticks: 1)
    }
    while !streamMayStart { Keel.sleep(ticks: 1) }
    var chunk = InlineArray<7, UInt8>(repeating: 0)
    var value: UInt8 = 0
    var sent = 0
    while sent < 3000 {
        let count = min(7, 3000 - sent)
        for index in 0..<count { chunk[index] = value; value &+= 1 }
        let written = withUnsafeBytes(of: &chunk) { try! bulk.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        sent += written
    }
    Keel.sleep(ticks: 1_000_000)
}
