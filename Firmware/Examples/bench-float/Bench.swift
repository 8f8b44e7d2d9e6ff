// Float-heavy load for `keel bench --only float`: a 16-tap FIR filter and a biquad in `Float`
// over 256 samples, between the counter's markers. Built twice for an FPU board, hard float
// and soft float ("float": "soft": libgcc's integer code), and counted in the same run.
import Keel

let sampleCount = 256

nonisolated(unsafe) var benchMarker: UInt32 = 0
nonisolated(unsafe) var benchResult: Float = 0

@_silgen_name("keel_bench_start") @inline(never)
func benchStart() { benchMarker = 1 }

@_silgen_name("keel_bench_stop") @inline(never)
func benchStop() { benchMarker = 2 }

/// A low-pass FIR (16 taps) followed by a biquad, sample by sample, as firmware filters a sensor.
@inline(never)
func filter(_ input: UnsafeMutablePointer<Float>, _ count: Int) -> Float {
    let taps: InlineArray<16, Float> = [0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.13, 0.13, 0.12, 0.1, 0.08, 0.06, 0.04, 0.02, 0.01]
    var history: InlineArray<16, Float> = .init(repeating: 0)
    var x1: Float = 0, x2: Float = 0, y1: Float = 0, y2: Float = 0
    var checksum: Float = 0
    for index in 0..<count {
        for tap in stride(from: 15, to: 0, by: -1) { history[tap] = history[tap - 1] }
        history[0] = input[index]
        var fir: Float = 0
        for tap in 0..<16 { fir += taps[tap] * history[tap] }
        let y = 0.2 * fir + 0.4 * x1 + 0.2 * x2 + 0.6 * y1 - 0.3 * y2
        x2 = x1; x1 = fir; y2 = y1; y1 = y
        checksum += y
    }
    return checksum
}

func mainTask() {
    let samples = UnsafeMutablePointer<Float>.allocate(capacity: sampleCount)
    for index in 0..<sampleCount { samples[index] = Float(index % 32) * 0.125 - 2 }
    benchResult = filter(samples, 8)  // warm-up
    benchStart()
    benchResult = filter(samples, sampleCount)
    benchStop()
    print("bench-float: checksum 0x\(String(benchResult.bitPattern, radix: 16))")
    Keel.shutdown(code: 0)
}
