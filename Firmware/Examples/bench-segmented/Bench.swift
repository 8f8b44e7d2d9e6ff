// Segmented-stack benchmarks: `keel bench` swaps the worker's entry, its stack (segmented or
// a large fixed one) and the code route (Thumb-2, Thumb-1, each with or without the prologue), and
// counts the instructions between the two markers. No tick: nothing else runs.
//
//   sortTask      quicksort of 512 words whose comparisons are calls (the realistic load)
//   fibTask       recursive fib(18): a call per node, the prologue's worst case
//   filterTask    a moving average over 512 samples through small helpers (window ->
//                 scale -> saturate): the everyday code nosplit takes the check off
//   boundaryTask  20000 calls placed exactly at the first segment's boundary: with the
//                 default pool the first grows the segment in place and no other splits;
//                 with `SplittingPool` (below) every one splits through __morestack
//   awayTask      the same 20000 calls with room to spare (none splits)
//
// The manifest names `sortTask`, so `keel check` proves the worker's stack for the sort:
// `quicksort` nests at most 21 times on these 512 words (20 calls that partition and the one
// below them that returns at once; worked out from the same seed and pivots), which is the
// manifest's `"recursion_depth"`. The other entries are the bench's, built without the check.

import Keel

nonisolated(unsafe) var benchMarker: UInt32 = 0

@_silgen_name("keel_bench_start") @inline(never)
func benchStart() { benchMarker = 1 }

@_silgen_name("keel_bench_stop") @inline(never)
func benchStop() { benchMarker = 2 }

// MARK: Sort

/// The comparison, a call of its own (as a comparator passed to a sort is).
@inline(never)
func isOrdered(_ a: UInt32, _ b: UInt32) -> Bool { a <= b }

@inline(never)
func quicksort(_ words: UnsafeMutablePointer<UInt32>, _ low: Int, _ high: Int) {
    guard low < high else { return }
    let pivot = words[(low + high) / 2]
    var i = low, j = high
    while i <= j {
        while !isOrdered(pivot, words[i]) || (words[i] != pivot && isOrdered(words[i], pivot)) { i += 1 }
        while !isOrdered(words[j], pivot) || (words[j] != pivot && isOrdered(pivot, words[j])) { j -= 1 }
        if i <= j {
            let t = words[i]; words[i] = words[j]; words[j] = t
            i += 1; j -= 1
        }
    }
    quicksort(words, low, j)
    quicksort(words, i, high)
}

nonisolated(unsafe) var sortData = InlineArray<512, UInt32>(repeating: 0)

func sortTask() {
    var seed: UInt32 = 12345
    for index in 0..<512 { seed = seed &* 1_103_515_245 &+ 12345; sortData[index] = seed >> 8 }
    benchStart()
    withUnsafeMutablePointer(to: &sortData) { pointer in
        quicksort(UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt32.self), 0, 511)
    }
    benchStop()
    var sorted = true
    for index in 1..<512 where sortData[index - 1] > sortData[index] { sorted = false }
    print("keel-bench:sort sorted=\(sorted) first=\(sortData[0]) last=\(sortData[511])")
    Keel.shutdown(code: sorted ? 0 : 1)
}

// MARK: Fib

@inline(never)
func fib(_ n: UInt32) -> UInt32 { n < 2 ? n : fib(n &- 1) &+ fib(n &- 2) }

func fibTask() {
    benchStart()
    let value = fib(18)
    benchStop()
    print("keel-bench:fib value=\(value)")
    Keel.shutdown(code: value == 2584 ? 0 : 1)
}

// MARK: Filter

/// Clamps to the 16-bit range a DAC takes.
@inline(never)
func saturate(_ value: Int32) -> Int32 { value < -32768 ? -32768 : (value > 32767 ? 32767 : value) }

/// Fixed-point gain, then the clamp.
@inline(never)
func scale(_ sample: Int32, gain: Int32) -> Int32 { saturate((sample &* gain) >> 4) }

/// The mean of `count` scaled samples.
@inline(never)
func window(_ samples: UnsafePointer<Int32>, _ count: Int, gain: Int32) -> Int32 {
    var sum: Int32 = 0
    for index in 0..<count { sum &+= scale(samples[index], gain: gain &+ Int32(index)) }
    return sum / Int32(count)
}

nonisolated(unsafe) var filterInput = InlineArray<512, Int32>(repeating: 0)
nonisolated(unsafe) var filterOutput = InlineArray<512, Int32>(repeating: 0)

func filterTask() {
    var seed: UInt32 = 777
    for index in 0..<512 { seed = seed &* 1_103_515_245 &+ 12345; filterInput[index] = Int32(bitPattern: seed >> 12) &- 0x40000 }
    benchStart()
    withUnsafePointer(to: &filterInput) { input in
        let samples = UnsafeRawPointer(input).assumingMemoryBound(to: Int32.self)
        for start in 0..<(512 - 8) { filterOutput[start] = window(samples + start, 8, gain: 20) }
    }
    benchStop()
    var check: UInt32 = 0
    for index in 0..<(512 - 8) { check = check &* 31 &+ UInt32(bitPattern: filterOutput[index]) }
    print("keel-bench:filter check=\(check)")
    Keel.shutdown(code: 0)
}

// MARK: Hot split

@inline(never)
func descend(_ levels: UInt32, _ iterations: UInt32, measure: Bool) -> UInt32 {
    var frame = InlineArray<4, UInt32>(repeating: levels)
    if levels == 0 { return hotLoop(iterations, measure: measure) }
    return descend(levels &- 1, iterations, measure: measure) &+ withUnsafeMutablePointer(to: &frame) { $0.pointee[Int(levels % 4)] }
}

nonisolated(unsafe) var firstCallSplit = false

/// A ~200-byte frame, then `iterations` calls; when `measure`, the markers bracket the loop.
@inline(never)
func hotLoop(_ iterations: UInt32, measure: Bool) -> UInt32 {
    var frame = InlineArray<48, UInt32>(repeating: iterations)
    var sum: UInt32 = 0
    // The first call is measured too: at the boundary it is the one that grows or splits first.
    if measure { benchStart() }
    let before = Keel.splitCount
    sum &+= boundaryCall(0)
    firstCallSplit = Keel.splitCount > before
    for iteration in 1..<max(iterations, 1) { sum &+= boundaryCall(iteration) }
    if measure { benchStop() }
    return sum &+ withUnsafeMutablePointer(to: &frame) { $0.pointee[Int(iterations % 48)] }
}

@inline(never)
func boundaryCall(_ value: UInt32) -> UInt32 {
    var frame = InlineArray<24, UInt32>(repeating: value)
    if value == .max { return rareDeepPath(value) }
    return withUnsafeMutablePointer(to: &frame) { $0.pointee[Int(value % 24)] &+ 1 }
}

/// Never taken here; it makes `boundaryCall`'s whole tree larger than the slack, so the
/// build keeps its check (nosplit takes the check off a function whose tree fits).
@inline(never)
func rareDeepPath(_ value: UInt32) -> UInt32 {
    var frame = InlineArray<100, UInt32>(repeating: value)
    return withUnsafeMutablePointer(to: &frame) { $0.pointee[Int(value % 100)] }
}

let hotCalls: UInt32 = 20_000

/// A segment allocator of the application's own (`"segment_allocator": "SplittingPool"`,
/// chosen by the bench's round-trip rows): the kernel's pool, but it never lets a segment
/// grow in place (`claim` keeps the protocol's default, false), so every call across a
/// boundary takes a segment through `__morestack` and back: one grow + release round trip.
struct SplittingPool: SegmentAllocator {
    var pool: SegmentPool
    init(region: UnsafeMutableRawBufferPointer, reserves: UnsafeBufferPointer<UInt32>) {
        pool = SegmentPool(region: region, reserves: reserves)
    }
    mutating func allocate(_ bytes: UInt32, task: Int) -> UInt32? { pool.allocate(bytes, task: task) }
    mutating func release(_ bottom: UInt32, bytes: UInt32, task: Int) { pool.release(bottom, bytes: bytes, task: task) }
}

/// The depth where the loop's first call splits.
func boundaryDepth() -> UInt32 {
    var depth: UInt32 = 0
    while depth < 64 {
        _ = descend(depth, 0, measure: false)
        if firstCallSplit { return depth }
        depth &+= 1
    }
    return depth
}

func boundaryTask() {
    let depth = boundaryDepth()
    Keel.returnStackGrowth()  // the probe's crossing grew the segment: start at the boundary again
    let splits = Keel.splitCount
    _ = descend(depth, hotCalls, measure: true)
    print("keel-bench:boundary depth=\(depth) splits=\(Keel.splitCount &- splits)")
    Keel.shutdown(code: depth < 64 ? 0 : 1)
}

func awayTask() {
    let splits = Keel.splitCount
    _ = descend(0, hotCalls, measure: true)
    print("keel-bench:away splits=\(Keel.splitCount &- splits)")
    Keel.shutdown(code: 0)
}
