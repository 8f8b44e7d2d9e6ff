// Forever: three tasks that do their deepest work once, then sleep and log for ever; the run
// never ends by itself, so `keel run --timeout` stops it and shows the live task table.
//
// Each task logs its own high-water mark every round. The deep work comes first and the loop
// is shallow (a sleep and a `Log` call, a few words), so the mark is the same from the first
// round on: the table read through the debugger at any later moment must show exactly the
// value the task logged last (Tests/KeelIntegrationTests/TopTests.swift checks this).

import Keel

/// A 192-byte buffer of samples once, then a short sleep and a log line every 5 ticks.
func sensorTask() {
    let mean = average(Keel.taskCount &* 12)  // 48 samples, from a value the compiler cannot fold
    Log.info("keel-test:work task=sensor mean=\(mean)")
    while true {
        Keel.sleep(ticks: 5)
        Log.info("keel-test:hwm task=sensor bytes=\(Keel.highWaterMark)")
    }
}

/// A 600-byte buffer filled and summed once, then a log line every 7 ticks.
func filterTask() {
    let checksum = fill()
    Log.info("keel-test:work task=filter checksum=\(checksum)")
    while true {
        Keel.sleep(ticks: 7)
        Log.info("keel-test:hwm task=filter bytes=\(Keel.highWaterMark)")
    }
}

/// Shallow work only (the least urgent task: it runs when the other two sleep).
func reporterTask() {
    var rounds: UInt32 = 0
    while true {
        Keel.sleep(ticks: 11)
        rounds &+= 1
        Log.info("keel-test:hwm task=reporter bytes=\(Keel.highWaterMark) round=\(rounds)")
    }
}

/// `count` samples summed in a buffer on the stack (one word each).
@inline(never)
func average(_ count: Int) -> UInt32 {
    var samples = InlineArray<48, UInt32>(repeating: 0)
    return withUnsafeMutablePointer(to: &samples) { pointer in
        let words = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt32.self)
        for index in 0..<min(count, 48) { words[index] = UInt32(index) &* 40_503 }
        return sum(words, min(count, 48)) / UInt32(max(count, 1))
    }
}

@inline(never)
func fill() -> UInt32 {
    var buffer = InlineArray<150, UInt32>(repeating: 0)
    return withUnsafeMutablePointer(to: &buffer) { pointer in
        let words = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt32.self)
        for index in 0..<150 { words[index] = UInt32(index) &* 2_654_435_761 }
        return sum(words, 150)
    }
}

@inline(never)
func sum(_ words: UnsafeMutablePointer<UInt32>, _ count: Int) -> UInt32 {
    var total: UInt32 = 0
    for index in 0..<count { total &+= words[index] }
    return total
}
