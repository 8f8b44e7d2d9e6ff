// Fixed-size block pools: O(1) allocate and release from static storage.
//
// Storage (reserved in .bss by the linker script from the manifest's "pools", 8-byte aligned,
// zero at boot, so nothing runs to set a pool up):
//   [0] the waiters mask   [1] the free list's head (a block's address; 0: empty)
//   [2] blocks never handed out yet are those from this index on
//   [3...] one bit per block, set while the block is allocated
//   then `count` blocks of `stride` bytes, from `blocksOffset` (8-byte aligned).
// A released block holds the next free block's address in its first word. Blocks never
// handed out are taken in order first, so the free list needs no building at boot.
//
// The bit per block makes misuse exact, not likely: releasing a block twice, or an address
// that is not the start of one of this pool's blocks, traps with the reason, in the task (or
// handler) that did it, before the pool is touched. A task stopped while it holds blocks
// keeps them (as with Zephyr's slabs and FreeRTOS): a restart policy should release first.

/// A pool of fixed-size blocks declared in the manifest
/// (`"pools": {"name": {"block": 128, "count": 8}}`), reached through the constant of the same
/// name `keel build` generates. A block is 8-byte aligned raw memory; its contents are what
/// the last user left (nothing is zeroed).
public struct MemoryPool: Sendable {
    nonisolated(unsafe) let storage: UnsafeMutablePointer<UInt32>
    /// The first block's address.
    let firstBlock: UInt32
    /// Bytes of one block in storage (the declared size rounded up to 8).
    let blockStride: UInt32
    let blockCount: UInt32
    /// `blockStride` is 2^strideShift, or strideShift is 0 and a block's index takes a division.
    let strideShift: UInt32

    @_spi(Build) public init(storage: UnsafeMutableRawPointer, stride: Int, count: Int, blocksOffset: Int, strideShift: Int) {
        self.storage = storage.assumingMemoryBound(to: UInt32.self)
        firstBlock = UInt32(UInt(bitPattern: storage)) &+ UInt32(truncatingIfNeeded: blocksOffset)
        blockStride = UInt32(truncatingIfNeeded: stride)
        blockCount = UInt32(truncatingIfNeeded: count)
        self.strideShift = UInt32(truncatingIfNeeded: strideShift)
    }

    /// Bytes of one block (the declared size rounded up to 8).
    public var stride: Int { Int(blockStride) }
    /// Blocks in the pool.
    public var count: Int { Int(blockCount) }

    private var waiters: UnsafeMutablePointer<UInt32> { storage }
    private var freeHead: UnsafeMutablePointer<UInt32> { storage + 1 }
    private var untouched: UnsafeMutablePointer<UInt32> { storage + 2 }
    private var allocated: UnsafeMutablePointer<UInt32> { storage + 3 }

    /// The index of the block at `address` (an offset from the first block).
    @inline(__always)
    private func index(ofOffset offset: UInt32) -> UInt32 {
        strideShift != 0 ? offset &>> strideShift : offset / blockStride
    }

    /// A free block, waiting for one until `timeout` passes.
    /// Blocks: yes. From: a task. Stack: switch.
    public func allocate(timeout: Timeout = .forever) throws(TimedOut) -> UnsafeMutableRawPointer {
        let interrupts = Interrupts.mask()
        // The common case first: a block is there, and no deadline is set up for it.
        if let block = take() {
            Interrupts.restore(interrupts)
            return block
        }
        defer { Interrupts.restore(interrupts) }
        var deadline = Deadline(timeout)
        while Waiting.wait(on: waiters, until: &deadline, interrupts: interrupts) {
            if let block = take() { return block }
        }
        throw TimedOut()
    }

    /// A free block, or nil when every block is in use. Blocks: no. From: anywhere. Stack: leaf.
    public func tryAllocate() -> UnsafeMutableRawPointer? {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        return take()
    }

    /// Gives `block` back and wakes the most urgent task waiting for one; from a handler, a
    /// more urgent woken task runs on exception return. Traps (a fault naming the caller,
    /// with the reason) when `block` is not the start of one of this pool's blocks, or is
    /// not allocated (released twice). Blocks: no. From: anywhere. Stack: leaf.
    public func release(_ block: UnsafeMutableRawPointer) {
        let address = UInt32(UInt(bitPattern: block))
        let offset = address &- firstBlock
        let index = self.index(ofOffset: offset)
        precondition(index < blockCount && index &* blockStride == offset, "MemoryPool.release: not a block of this pool")
        let word = allocated + Int(index &>> 5)
        let bit: UInt32 = 1 &<< (index & 31)
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        precondition(word.pointee & bit != 0, "MemoryPool.release: the block is not allocated (released twice?)")
        word.pointee &= ~bit
        Memory.storeWord(address, freeHead.pointee)
        freeHead.pointee = address
        Waiting.wakeOne(waiters)
    }

    /// Blocks free now. Blocks: no. From: anywhere. Stack: leaf.
    public var available: Int {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        var used = 0
        for word in 0..<(count + 31) / 32 { used += allocated[word].nonzeroBitCount }
        return count - used
    }

    /// With interrupts masked: the head of the free list, else the next block never handed
    /// out; nil when neither is left.
    @inline(__always)
    private func take() -> UnsafeMutableRawPointer? {
        var address = freeHead.pointee
        let index: UInt32
        if address != 0 {
            freeHead.pointee = Memory.loadWord(address)
            index = self.index(ofOffset: address &- firstBlock)
        } else {
            index = untouched.pointee
            guard index < blockCount else { return nil }
            untouched.pointee = index &+ 1
            address = firstBlock &+ index &* blockStride
        }
        allocated[Int(index &>> 5)] |= 1 &<< (index & 31)
        return UnsafeMutableRawPointer(bitPattern: UInt(address))
    }
}
