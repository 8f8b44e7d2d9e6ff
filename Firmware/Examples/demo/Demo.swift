// The demo application: a sensor pipeline, and a task that overflows its stack on purpose.
//
//   timer ──IRQ──▶ sensor handler ──samples──▶ filter ──smoothed──▶ logger
//                                                  │                    
//                                             statsLock ◀── monitor
//
// `clock` starts the board's hardware timer (`DeviceTimer`: the MPS2's CMSDK timer, the
// nRF51's TIMER0, ...) at 1 kHz, once a tick. Its interrupt handler reads the "sensor" (a
// synthetic waveform), stamps the sample and sends it to `samples` without blocking (a full
// queue counts a drop), and stops the timer after the last sample. `filter` takes each sample, smooths it over four,
// updates the shared statistics under `statsLock` and passes it on; `logger` writes each
// one with `Log`, which formats on the host and costs a few words of stack. `monitor`
// reads the statistics under the same mutex. `runaway` recurses without end: its overflow
// is caught (each board's own hardware: T1 on the M33 and the M55, T2 on the M3, M4F and M7,
// T6 on the micro:bit, which has neither), it is restarted once,
// caught again and stopped, and the pipeline never notices.
//
// `"stack_check": "warn"`: `runaway` recurses without end on purpose; the build prints that
// finding and goes on.

import Keel
import Synchronization

/// One reading of the sensor: its number, its value and the tick it was taken at.
struct Sample: BitwiseCopyable {
    var sequence: UInt16
    var value: UInt16
    var tick: UInt32
}

let sampleCount: UInt16 = 40

/// Samples the handler could not queue (the queue was full).
let dropped = Atomic<UInt32>(0)
let taken = Atomic<UInt32>(0)

/// The sensor's interrupt handler: never blocks (a `trySend`, no timeout).
func sensorHandler() {
    let sequence = UInt16(truncatingIfNeeded: taken.add(1, ordering: .relaxed).newValue)
    // A triangle wave with a little noise: something for the filter to smooth.
    let phase = UInt32(sequence) % 16
    let wave = phase < 8 ? phase &* 100 : (16 &- phase) &* 100
    let noise = (UInt32(sequence) &* 2_654_435_761) >> 28
    let sample = Sample(sequence: sequence, value: UInt16(wave &+ noise), tick: Keel.ticks)
    if !samples.trySend(sample) { dropped.add(1, ordering: .relaxed) }
    if sequence == sampleCount { DeviceTimer.stop() }
}

func clockTask() {
    DeviceTimer.start(hertz: 1000, priority: 0x40) { sensorHandler() }
}

/// What `filter` has seen, shared with `monitor` under `statsLock`.
struct Statistics {
    var count: UInt32 = 0
    var minimum: UInt16 = .max
    var maximum: UInt16 = 0
}
nonisolated(unsafe) var statistics = Statistics()

func filterTask() {
    var window: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    while true {
        guard var sample = try? samples.receive() else { continue }
        window = (window.1, window.2, window.3, UInt32(sample.value))
        let taken = min(UInt32(sample.sequence), 4)
        let sum = window.0 &+ window.1 &+ window.2 &+ window.3
        let average = UInt16(sum / max(taken, 1))
        try? statsLock.withLock {
            statistics.count &+= 1
            statistics.minimum = min(statistics.minimum, sample.value)
            statistics.maximum = max(statistics.maximum, sample.value)
        }
        sample.value = average
        try? smoothed.send(sample)
    }
}

func loggerTask() {
    var expected: UInt16 = 1
    var lost: UInt32 = 0
    while expected <= sampleCount {
        guard let sample = try? smoothed.receive(timeout: .milliseconds(100)) else {
            Log.error("logger: no sample for 100 ms after \(expected - 1)")
            break
        }
        lost &+= UInt32(sample.sequence &- expected)
        expected = sample.sequence &+ 1
        Log.info("logger: sample \(sample.sequence) smoothed \(sample.value) taken at tick \(sample.tick), logged at \(Keel.ticks)")
    }
    Log.info("logger: \(expected - 1) samples through the pipeline, \(lost) lost, \(dropped.load(ordering: .relaxed)) dropped by the handler")
    Log.info("logger: still running after the overflow")
    Keel.sleep(milliseconds: 12)  // the monitor's last look: it looks every 11 ms
    Keel.shutdown(code: 0)  // `filter` would wait for samples forever: the run ends here
}

/// Looks at the statistics every 11 ms until every sample has been through.
func monitorTask() {
    var seen: UInt32 = 0
    while seen < UInt32(sampleCount) {
        Keel.sleep(milliseconds: 11)
        let snapshot = (try? statsLock.withLock { statistics }) ?? Statistics()
        Log.info("monitor: \(snapshot.count) samples, min \(snapshot.minimum), max \(snapshot.maximum)")
        seen = snapshot.count
    }
}

func runawayTask() {
    Keel.sleep(ticks: 5)
    Log.warning("runaway: recursing without bound (restarted once after the first overflow, then stopped)")
    let result = descend(1)
    Log.error("runaway: returned \(result) (the overflow was not caught)")
}

/// Recursion with a 64-byte frame; yields at every level so the kernel switches at the edge.
@inline(never)
func descend(_ depth: UInt32) -> UInt32 {
    var frame = InlineArray<16, UInt32>(repeating: depth)
    Keel.yield()
    guard depth < 200 else { return depth }
    let below = descend(depth &+ 1)
    return withUnsafeMutablePointer(to: &frame) { keep($0) } &+ below
}

/// Keeps a frame alive: the optimiser cannot see through this.
@inline(never)
func keep(_ frame: UnsafeMutablePointer<InlineArray<16, UInt32>>) -> UInt32 {
    frame.pointee[Int(frame.pointee[0] % 16)]
}
