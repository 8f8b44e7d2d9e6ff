// The application heap: a first-fit free list between the end of .bss and the top of RAM.
//
// The kernel itself never allocates; this exists because Embedded Swift allocates class
// instances and Strings (e.g. string interpolation in `print`) through posix_memalign/free.
// Interrupts are masked while the list changes, so any task may allocate.
// Every block starts with a two-word header: its size, then (free) the next free block or
// (in use) the block's own address, stored in the word just before the payload; an aligned
// allocation leaves slack between the two, and `release` finds the block through that word.
// Running out is a fault of the asking task: a null allocation would otherwise be written
// through at address 0 (the vector table).

private struct FreeBlock {
    var size: UInt32      // bytes in this block, header included
    var next: UInt32      // address of the next free block, 0 at the end
}

private let headerBytes: UInt32 = 8

nonisolated(unsafe) private var freeList: UInt32 = 0
nonisolated(unsafe) private var heapReady = false

enum Heap {
    static func initialize(start: UInt32, end: UInt32) {
        let first = (start &+ 7) & ~7
        guard end > first &+ 16 else { freeList = 0; heapReady = true; return }
        Memory.storeWord(first, end &- first)
        Memory.storeWord(first &+ 4, 0)
        freeList = first
        heapReady = true
    }

    /// Returns the address of `bytes` usable bytes aligned to `alignment` (a power of two), or 0.
    static func allocate(_ bytes: UInt32, alignment: UInt32 = 8) -> UInt32 {
        let slack = alignment > 8 ? alignment : 0
        let needed = (bytes &+ headerBytes &+ slack &+ 7) & ~7
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        var previous: UInt32 = 0
        var block = freeList
        while block != 0 {
            let size = Memory.loadWord(block)
            let next = Memory.loadWord(block &+ 4)
            if size >= needed {
                if size - needed >= 16 {
                    // Split: the tail stays free.
                    let rest = block &+ needed
                    Memory.storeWord(rest, size &- needed)
                    Memory.storeWord(rest &+ 4, next)
                    link(previous, to: rest)
                    Memory.storeWord(block, needed)
                } else {
                    link(previous, to: next)
                }
                var payload = block &+ headerBytes
                if slack != 0 { payload = (payload &+ alignment &- 1) & ~(alignment &- 1) }
                Memory.storeWord(payload &- 4, block)  // how `release` finds the block
                return payload
            }
            previous = block
            block = next
        }
        return 0
    }

    /// Returns a block to the list, keeping it sorted by address and merging neighbours.
    static func release(_ address: UInt32) {
        guard address != 0 else { return }
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        let block = Memory.loadWord(address &- 4)
        var previous: UInt32 = 0
        var next = freeList
        while next != 0 && next < block {
            previous = next
            next = Memory.loadWord(next &+ 4)
        }
        Memory.storeWord(block &+ 4, next)
        link(previous, to: block)
        merge(block)
        if previous != 0 { merge(previous) }
    }

    private static func link(_ previous: UInt32, to block: UInt32) {
        if previous == 0 { freeList = block } else { Memory.storeWord(previous &+ 4, block) }
    }

    private static func merge(_ block: UInt32) {
        let size = Memory.loadWord(block)
        let next = Memory.loadWord(block &+ 4)
        if next != 0 && block &+ size == next {
            Memory.storeWord(block, size &+ Memory.loadWord(next))
            Memory.storeWord(block &+ 4, Memory.loadWord(next &+ 4))
        }
    }
}

@_cdecl("posix_memalign")
func posixMemalign(_ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int) -> Int32 {
    guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= 4096 else { return 22 }  // EINVAL
    let address = Heap.allocate(UInt32(truncatingIfNeeded: size), alignment: UInt32(alignment))
    guard address != 0 else {
        Faults.outOfMemory(bytes: UInt32(truncatingIfNeeded: size))  // stops the task or resets
    }
    result.pointee = UnsafeMutableRawPointer(bitPattern: UInt(address))
    return 0
}

@_cdecl("free")
func free(_ pointer: UnsafeMutableRawPointer?) {
    Heap.release(UInt32(truncatingIfNeeded: UInt(bitPattern: pointer)))
}

/// The stdlib seeds hashing from this; firmware has no entropy source, so it is deterministic.
@_cdecl("arc4random_buf")
func arc4randomBuffer(_ buffer: UnsafeMutableRawPointer, _ count: Int) {
    _ = memset(buffer, 0x5A, count)
}
