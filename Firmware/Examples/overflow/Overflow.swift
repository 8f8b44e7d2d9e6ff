// Overflow scenarios: `deep` recurses (yielding at every level), `wide` takes one large local
// buffer; each must be caught by the technique its manifest gives it, and `steady` must keep
// running. The tests replace the protections of `deep` and `wide` per technique.
//
// The 64 bytes below `deep`'s stack belong to `sentinel`, which sleeps through the whole run,
// so they must not change unless the overflow itself writes them: `deep` copies them before
// recursing and `steady` compares afterwards, printing how many bytes differ.
//
// `"stack_check": "warn"`: the overflows are the point (`deep` recurses without end, `wide`'s
// buffer is larger than its stack), so `keel check` fails here by design; the build prints
// the findings and goes on.

import Keel

let witnessBytes = 64
nonisolated(unsafe) var witness = InlineArray<64, UInt8>(repeating: 0)
nonisolated(unsafe) var witnessAddress: UInt32 = 0

func sentinelTask() {
    Keel.sleep(ticks: 100_000)
}

func deepTask() {
    Keel.sleep(ticks: 2)
    let below = Keel.stackBottom &- UInt32(witnessBytes)
    for index in 0..<witnessBytes { witness[index] = load(below &+ UInt32(index)) }
    witnessAddress = below
    print("deep: recursing")
    print("deep: returned \(descend(1)) (not caught)")
}

func wideTask() {
    Keel.sleep(ticks: 6)
    print("wide: taking a 1536-byte buffer")
    print("wide: returned \(wide()) (not caught)")
}

func steadyTask() {
    for round in 1...4 {
        Keel.sleep(ticks: 3)
        print("steady: round \(round)")
    }
    if witnessAddress != 0 {
        // `deep` is stopped by now; the bytes below its stack are the sentinel's top.
        let below = witnessAddress
        var changed = 0
        for index in 0..<witnessBytes where load(below &+ UInt32(index)) != witness[index] { changed += 1 }
        print("keel-test:below-changed=\(changed)")
    }
    print("steady: still running after the overflows")
    Keel.shutdown(code: 0)
}

/// 64-byte frames; a context switch at every level puts the kernel's save at the edge.
@inline(never)
func descend(_ depth: UInt32) -> UInt32 {
    var frame = InlineArray<16, UInt32>(repeating: depth)
    Keel.yield()
    guard depth < 400 else { return depth }
    let below = descend(depth &+ 1)
    return withUnsafeMutablePointer(to: &frame) { keep($0) } &+ below
}

@inline(never)
func keep(_ frame: UnsafeMutablePointer<InlineArray<16, UInt32>>) -> UInt32 {
    frame.pointee[Int(frame.pointee[0] % 16)]
}

/// One 1536-byte local buffer in a 1024-byte stack, written from the bottom up.
@inline(never)
func wide() -> UInt32 {
    var buffer = InlineArray<384, UInt32>(repeating: 0)
    return withUnsafeMutablePointer(to: &buffer) { pointer in
        let words = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt32.self)
        for index in 0..<384 { words[index] = UInt32(index) }
        Keel.yield()
        return words[100] &+ words[383]
    }
}

@inline(never)
func load(_ address: UInt32) -> UInt8 {
    UnsafePointer<UInt8>(bitPattern: UInt(address)).unsafelyUnwrapped.pointee
}
