// Code without the prologue running off a segment: the hardware under the segments.
//
// The prologue check stops a checked call before its frame is written, and `keel check`
// proves that what runs below the limit without a check fits the slack. A function with a
// C name is never checked (it may run on any stack), so a recursion through one runs off
// whatever segment it is on. On the M3 the MPU guard that follows the segment in use stops
// it (technique `segment-guard`); on the M33 PSPLIM, set to the segment's bottom, does.
//
// RAM from the bottom: `neighbour` (a fixed stack), the segment pool, `sitter`'s first
// segment (on the pool, so `diver`'s first segment cannot grow down in place), `diver`'s.
// The pool holds exactly one of `diver`'s 1536-byte segments, so that segment lies right
// above `neighbour`'s stack whatever part of the pool the allocator would pick (and
// `sitter`'s first segment is large enough never to grow down into it).
//   run 1: `diver` calls a function with a 1 KiB frame, which takes that segment from the
//          pool, and dives from there;
//   run 2: restarted, it dives from its first segment, right above `sitter`'s.
// `neighbour` and `sitter` keep 64 words near the top of their stacks, just below where
// `diver` dives, and check them afterwards: every word must be intact.
//
// `"stack_check": "warn"`: the dive recurses without end on purpose.

import Keel

nonisolated(unsafe) var diverRuns: UInt32 = 0

/// A recursion with a C name: built without the split-stack prologue (SplitStackIR's roots),
/// it never asks for a segment and runs down the stack until something stops it. The bound
/// and the used result keep LLVM from turning it into a loop.
@_cdecl("segment_guard_dive")
func dive(_ depth: UInt32) -> UInt32 {
    var frame = InlineArray<8, UInt32>(repeating: depth)
    guard depth < 1_000_000 else { return depth }
    return dive(depth &+ 1) &+ withUnsafeMutablePointer(to: &frame) { keep8($0, depth) }
}

@inline(never)
func keep8(_ frame: UnsafeMutablePointer<InlineArray<8, UInt32>>, _ depth: UInt32) -> UInt32 {
    frame.pointee[Int(depth % 8)] ^ frame.pointee[7]
}

/// A checked function whose 1 KiB frame does not fit what is left of the first segment: its
/// prologue takes a segment from the pool, and the dive starts there.
@inline(never)
func diveFromANewSegment(_ seed: UInt32) -> UInt32 {
    var frame = InlineArray<256, UInt32>(repeating: seed)
    let kept = withUnsafeMutablePointer(to: &frame) { keep256($0, seed) }
    return dive(kept & 1) &+ kept
}

@inline(never)
func keep256(_ frame: UnsafeMutablePointer<InlineArray<256, UInt32>>, _ seed: UInt32) -> UInt32 {
    frame.pointee[Int(seed % 256)] ^ frame.pointee[255]
}

func diverTask() {
    diverRuns &+= 1
    Keel.sleep(ticks: 5)  // the others fill their words first
    if diverRuns == 1 {
        print("keel-test:diver run=1 from=pool-segment")
        print("keel-test:diver not stopped \(diveFromANewSegment(7))")
    } else {
        print("keel-test:diver run=2 from=first-segment")
        print("keel-test:diver not stopped \(dive(0))")
    }
}

/// 64 words at the top of the caller's stack, filled, kept while the diver dives, counted.
@inline(never)
func fill(_ words: UnsafeMutablePointer<InlineArray<64, UInt32>>, _ tag: UInt32) {
    for index in 0..<64 { words.pointee[index] = tag ^ UInt32(index) }
}

@inline(never)
func intact(_ words: UnsafeMutablePointer<InlineArray<64, UInt32>>, _ tag: UInt32) -> Int {
    var count = 0
    for index in 0..<64 where words.pointee[index] == tag ^ UInt32(index) { count += 1 }
    return count
}

func keepWords(_ name: StaticString, tag: UInt32) {
    var words = InlineArray<64, UInt32>(repeating: 0)
    withUnsafeMutablePointer(to: &words) { fill($0, tag) }
    Keel.sleep(ticks: 40)  // both dives happen meanwhile
    let count = withUnsafeMutablePointer(to: &words) { intact($0, tag) }
    print("keel-test:\(name) intact=\(count) of 64")
}

func neighbourTask() { keepWords("neighbour", tag: 0xC0DE_0000) }

func sitterTask() { keepWords("sitter", tag: 0x5177_0000) }
