// Call shapes the stack analysis must get right, each in its own task; no task prints, so
// each task's measured high-water mark is its own code and the analysis can be compared
// with it closely. `touch`, at the bottom of every task but divide, yields, so the exception
// frame the bound counts is really there when the stack is painted (divide's deepest point
// is in libgcc). Every stack is "auto": the build sizes it from the analysis.
//
// - chain: three calls deep, each with a frame it must keep (a local buffer passed out).
// - tail: a function whose last act is a call the optimiser turns into a branch.
// - recursive: a recursion the manifest bounds ("recursion_depth": 12).
// - closure: a call through a `@convention(c)` function value kept in a global.
// - divide: a 64-bit division, which calls libgcc's __aeabi_uldivmod (no .stack_sizes entry).

import Keel

/// Results go here so the optimiser cannot drop the work (a store to a global).
@inline(never)
func publish(_ value: UInt32) {
    shapeResults = value
}
nonisolated(unsafe) var shapeResults: UInt32 = 0

/// Keeps `words` words of the caller's frame alive and returns something from them; then
/// yields, so PendSV's exception frame lands on the task stack at the deepest point and the
/// painted high-water mark holds what the bound counts for it (a tick rarely comes there).
@inline(never)
func touch(_ words: UnsafeMutablePointer<UInt32>, _ count: Int) -> UInt32 {
    var total: UInt32 = 0
    for index in 0..<count { words[index] = UInt32(index) &* 2_654_435_761; total &+= words[index] }
    Keel.yield()
    return total
}

// MARK: chain

func chainTask() { publish(chainOne(1)) }

@inline(never)
func chainOne(_ seed: UInt32) -> UInt32 {
    var buffer = InlineArray<24, UInt32>(repeating: seed)
    let own = withUnsafeMutablePointer(to: &buffer) { touch(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt32.self), 24) }
    return own &+ chainTwo(seed &+ 1)
}

@inline(never)
func chainTwo(_ seed: UInt32) -> UInt32 {
    var buffer = InlineArray<40, UInt32>(repeating: seed)
    let own = withUnsafeMutablePointer(to: &buffer) { touch(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt32.self), 40) }
    return own &+ chainThree(seed &+ 1)
}

@inline(never)
func chainThree(_ seed: UInt32) -> UInt32 {
    var buffer = InlineArray<56, UInt32>(repeating: seed)
    return withUnsafeMutablePointer(to: &buffer) { touch(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt32.self), 56) }
}

// MARK: tail

func tailTask() { publish(tailFirst(3)) }

/// Ends in a call whose result it returns unchanged: a tail call (`b` to `tailSecond`).
@inline(never)
func tailFirst(_ seed: UInt32) -> UInt32 {
    if seed == 0 { return 0 }
    return tailSecond(seed &* 7)
}

@inline(never)
func tailSecond(_ seed: UInt32) -> UInt32 {
    var buffer = InlineArray<64, UInt32>(repeating: seed)
    return withUnsafeMutablePointer(to: &buffer) { touch(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt32.self), 64) }
}

// MARK: recursive

func recursiveTask() { publish(countdown(12)) }

@inline(never)
func countdown(_ depth: UInt32) -> UInt32 {
    var buffer = InlineArray<8, UInt32>(repeating: depth)
    let own = withUnsafeMutablePointer(to: &buffer) { touch(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt32.self), 8) }
    guard depth > 1 else { return own }
    return own &+ countdown(depth &- 1) &* 3
}

// MARK: closure

typealias Transform = @convention(c) (UInt32) -> UInt32
nonisolated(unsafe) var transforms: InlineArray<2, Transform> = [{ $0 &* 3 }, { value in
    var buffer = InlineArray<32, UInt32>(repeating: value)
    return withUnsafeMutablePointer(to: &buffer) { touch(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt32.self), 32) }
}]

func closureTask() {
    var total: UInt32 = 0
    for round in 0..<4 { total &+= applyTransform(round % 2, UInt32(round)) }
    publish(total)
}

@inline(never)
func applyTransform(_ index: Int, _ value: UInt32) -> UInt32 { transforms[index](value) }

// MARK: divide

func divideTask() {
    var value: UInt64 = 0x1234_5678_9ABC_DEF0 &+ UInt64(shapeResults)
    var total: UInt64 = 0
    for divisor in 3...9 { total &+= divide(value, UInt64(divisor)); value &+= total }
    publish(UInt32(truncatingIfNeeded: total))
}

@inline(never)
func divide(_ a: UInt64, _ b: UInt64) -> UInt64 { a / b }
