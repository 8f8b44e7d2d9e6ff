// Segmented stacks under load: results against a fixed stack, growth under preemption, the
// hot split, and exhaustion. Phases follow from the priorities:
//
//   4  `reference` (a 2.5 KiB fixed stack) and `deep` (a 640-byte first segment, placed
//      directly on the pool, so it grows down into it in place) run the same deep
//      recursion and the growers' workloads; `deep` checks the pool afterwards, then finds
//      the depth where one more call crosses its first segment's boundary and calls there
//      100000 times (the hot split: it grows once, then never splits again).
//   2  two growers recurse to changing depths, preempted by a 10 kHz tick, while `runaway`
//      recurses without end (its `max` stops it; it is restarted once, then killed).
//   1  `hog` asks for more than the pool has; it is killed with the pool refusing.
//
// Sized for the micro:bit's 16 KiB: a 4 KiB pool, 1 KiB segments (2 KiB for `deep`).
//
// Every line the tests read starts with "keel-test:".
//
// `"stack_check": "warn"`: `runaway` and `hog` recurse without end on purpose (their `max`
// and the pool stop them), so `keel check` fails here by design; the build prints the
// findings and goes on.

import Keel

/// Six words: returned through memory (an indirect result), not in r0-r3.
struct Sextet: Equatable {
    var a, b, c, d, e, f: UInt32
    var checksum: UInt32 { a ^ (b &* 3) ^ (c &* 5) ^ (d &* 7) ^ (e &* 11) ^ (f &* 13) }
}

/// Four words: returned in r0-r3.
struct Quad { var a, b, c, d: UInt32 }

/// Eight arguments (four on the stack) and a four-word result.
@inline(never)
func mix(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: UInt32) -> Quad {
    Quad(a: a &+ e, b: b ^ f, c: c &+ (g &<< 1), d: d ^ (h &* 31))
}

/// The deep recursion: seven arguments, a 272-byte local buffer (frames over 256 bytes),
/// a six-word result, and a call with stack arguments and a register result at each level.
@inline(never)
func deep(_ level: UInt32, _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ e: UInt32, _ f: UInt32) -> Sextet {
    var buffer = InlineArray<68, UInt32>(repeating: 0)
    for index in 0..<68 { buffer[index] = level &* 2_654_435_761 &+ UInt32(index) &+ a }
    let kept = withUnsafeMutablePointer(to: &buffer) { keep72($0, level) }
    if level == 0 { return Sextet(a: a, b: b, c: c, d: d, e: e, f: f &+ kept) }
    let quad = mix(a, b, c, d, e, f, level, kept)
    let inner = deep(level &- 1, quad.a, quad.b, quad.c, quad.d, e &+ kept, f ^ level)
    return Sextet(a: inner.a &+ level, b: inner.b ^ quad.a, c: inner.c &+ kept, d: inner.d,
                  e: inner.e &* 3, f: inner.f ^ quad.d)
}

@inline(never)
func keep72(_ buffer: UnsafeMutablePointer<InlineArray<68, UInt32>>, _ level: UInt32) -> UInt32 {
    buffer.pointee[Int(level % 68)] ^ buffer.pointee[67]
}

let deepLevels: UInt32 = 5

func deepResult() -> Sextet { deep(deepLevels, 1, 2, 3, 4, 5, 6) }

/// One grower iteration: a recursion to `depth` with 160-byte frames.
@inline(never)
func grow(_ depth: UInt32, _ seed: UInt32) -> UInt32 {
    var frame = InlineArray<40, UInt32>(repeating: seed)
    frame[Int(depth % 40)] = depth &* 0x9E37_79B9
    let here = withUnsafeMutablePointer(to: &frame) { keep40($0, depth) }
    if depth == 0 { return here }
    return grow(depth &- 1, seed &+ here) &* 33 &+ here
}

@inline(never)
func keep40(_ frame: UnsafeMutablePointer<InlineArray<40, UInt32>>, _ depth: UInt32) -> UInt32 {
    frame.pointee[Int(depth % 40)] &+ frame.pointee[Int((depth &+ 7) % 40)]
}

let growerIterations: UInt32 = 60_000

/// A grower's whole workload: depths 1...3 in a pattern of its own.
func growerChecksum(_ seed: UInt32, yield: Bool) -> UInt32 {
    var checksum: UInt32 = seed
    for iteration in 0..<growerIterations {
        let depth = (iteration &* 7 &+ seed) % 3 &+ 1
        checksum = checksum &* 31 &+ grow(depth, iteration ^ seed)
        if yield && iteration % 1000 == 0 { Keel.triggerInterrupt(4) }
    }
    return checksum
}

// MARK: Phase 4

func referenceTask() {
    let result = deepResult()
    print("keel-test:deep where=fixed checksum=\(result.checksum) a=\(result.a) f=\(result.f)")
    for seed in [11, 22] as [UInt32] {
        print("keel-test:grower seed=\(seed) where=fixed checksum=\(growerChecksum(seed, yield: false))")
    }
}

func deepTask() {
    let before = Keel.segmentPool
    let result = deepResult()
    // Waiting gives back the segments it keeps and what the first segment grew by in place
    // (SegmentedStacks.returnUnused).
    Keel.sleep(ticks: 1)
    let after = Keel.segmentPool
    let mine = Keel.segments
    let held = mine.heldBytes
    // One line in three prints: the micro:bit's heap is a few hundred bytes beside the pool.
    print("keel-test:deep where=segmented checksum=\(result.checksum) a=\(result.a) f=\(result.f) ", terminator: "")
    print("peak_segments=\(mine.peakSegments) peak_bytes=\(mine.peakBytes) splits=\(mine.splits) ", terminator: "")
    print("pool_free_before=\(before.freeBytes) pool_free_after=\(after.freeBytes) spare=\(after.spareBytes) "
        + "held_after=\(held) pool_bytes=\(after.totalBytes)")
    hotSplit()
}

// MARK: The hot split (phase 4, after the deep recursion)

/// `levels` small frames (about 40 bytes each), then the loop at the bottom.
@inline(never)
func descend(_ levels: UInt32, _ iterations: UInt32) -> HotLoopResult {
    var frame = InlineArray<4, UInt32>(repeating: levels)
    if levels == 0 { return hotLoop(iterations) }
    var result = descend(levels &- 1, iterations)
    result.sum &+= withUnsafeMutablePointer(to: &frame) { $0.pointee[Int(levels % 4)] }
    return result
}

struct HotLoopResult {
    var sum: UInt32 = 0
    /// The first call split (the loop itself did not, or its call would have had room).
    var atBoundary = false
}

/// The loop: a ~200-byte frame (wider than one `descend` step, so some depth puts the
/// boundary inside it), calling `boundaryCall` `iterations` times.
@inline(never)
func hotLoop(_ iterations: UInt32) -> HotLoopResult {
    var frame = InlineArray<48, UInt32>(repeating: iterations)
    var result = HotLoopResult()
    let before = Keel.splitCount
    for iteration in 0..<iterations {
        result.sum &+= boundaryCall(iteration)
        if iteration == 0 { result.atBoundary = Keel.splitCount > before }
    }
    result.sum &+= withUnsafeMutablePointer(to: &frame) { $0.pointee[Int(iterations % 48)] }
    return result
}

/// The function called at the boundary: a 96-byte frame, so it checks SP against the limit,
/// and a tree too deep for the slack (below), so it keeps that check.
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

let hotIterations: UInt32 = 100_000

func hotSplit() {
    // The smallest depth at which the loop's call splits: the loop sits right at the boundary.
    var depth: UInt32 = 0
    while depth < 64 && !descend(depth, 1).atBoundary { depth &+= 1 }
    // The probe's call grew the first segment in place; waiting shrinks it back, so the loop
    // below starts exactly at the boundary again.
    Keel.sleep(ticks: 1)
    let before = Keel.segments
    let result = descend(depth, hotIterations)
    let after = Keel.segments
    print("keel-test:hotsplit depth=\(depth) at_boundary=\(result.atBoundary) iterations=\(hotIterations) "
        + "splits=\(after.splits &- before.splits) pool_allocations=\(after.poolAllocations &- before.poolAllocations) "
        + "sum=\(result.sum)")
}

// MARK: Phase 2

nonisolated(unsafe) var interruptRuns: UInt32 = 0
nonisolated(unsafe) var interruptChecksum: UInt32 = 0

func growerATask() {
    // Split code in an interrupt handler, on the handler stack, under its own limit.
    Keel.attachInterrupt(4, priority: 0x80) {
        interruptRuns &+= 1
        interruptChecksum = interruptChecksum &* 3 &+ handlerWork(interruptRuns)
    }
    grower(11, yield: true)
}

/// The handler's split code: one 160-byte frame, so its prologue checks SP against the
/// handler stack's limit. Not `grow`: a recursion's bound in keel.json is one number for every
/// caller, and the growers' depth (4) counted on the handler stack would overstate it by two frames.
@inline(never)
func handlerWork(_ seed: UInt32) -> UInt32 {
    var frame = InlineArray<40, UInt32>(repeating: seed)
    frame[Int(seed % 40)] = seed &* 0x9E37_79B9
    return withUnsafeMutablePointer(to: &frame) { keep40($0, seed) }
}

func growerBTask() { grower(22, yield: false) }

func grower(_ seed: UInt32, yield: Bool) {
    let checksum = growerChecksum(seed, yield: yield)
    let mine = Keel.segments
    print("keel-test:grower seed=\(seed) where=segmented checksum=\(checksum) peak_segments=\(mine.peakSegments) "
        + "splits=\(mine.splits) ticks=\(Keel.ticks)")
    if yield { print("keel-test:interrupts runs=\(interruptRuns)") }
}

/// Recurses (practically) without end: 160-byte frames until a refusal stops the task. The
/// bound and the used result keep LLVM from turning a recursion without effects into a loop.
@inline(never)
func endless(_ depth: UInt32) -> UInt32 {
    var frame = InlineArray<40, UInt32>(repeating: depth)
    guard depth < 1_000_000 else { return depth }
    return endless(depth &+ 1) &+ withUnsafeMutablePointer(to: &frame) { keep40($0, depth) }
}

func runawayTask() {
    print("keel-test:runaway start")
    Keel.sleep(ticks: 20)  // let the growers get going first
    print("keel-test:runaway not stopped \(endless(0))")
}

// MARK: Phase 1

func hogTask() {
    let pool = Keel.segmentPool
    print("keel-test:hog start pool_free=\(pool.freeBytes) spare=\(pool.spareBytes) pool_bytes=\(pool.totalBytes)")
    print("keel-test:hog not stopped \(endless(0))")
}
