// Fixed-size block pools: O(1) allocate and release from static storage.
//
// Storage (reserved in .bss by the linker script from the manifest's "pools", 8-byte aligned,
// zero at boot, so nothing runs to set a pool up), under `keel_pool_NAME`:
//   [0] the waiters mask
//   [1] pools of more than 32 blocks: bit w set while every block of bit word w is in use
//   [2...] one bit per block, set while the block is allocated (zero at boot: all free)
// then, under `keel_blocks_NAME` (8-byte aligned), `count` blocks of `stride` bytes.
// The pool is its bitmap: allocate takes the lowest clear bit (two instructions on the M3,
// RBIT and CLZ, of the inverted word; the summary word finds the word first when there are
// more than 32 blocks, so it stays O(1) up to 1024), release clears the bit. No free list:
// a block's memory is never the pool's, so a task that writes through a stale pointer
// cannot break the pool, and nothing but the bitmap says what is free.
//
// The same bit makes misuse exact, not likely: releasing a block twice, or an address that
// is not the start of one of this pool's blocks, traps with the reason, in the task (or
// handler) that did it, before the pool is touched. A task stopped while it holds blocks
// keeps them (as with Zephyr's slabs and FreeRTOS): a restart policy should release first.
//
// Speed (Thread-Metric's memory test: `keel bench --only thread-metric`): the calls are
// `@inlinable`, so the pool's numbers (generated constants) fold into the caller's code. On
// ARMv7-M/v8-M a pool of up to 32 blocks updates its one bit word with LDREX/STREX (a word
// changed by an interrupt in between makes STREX fail, and the update is tried again), so
// the common case masks no interrupt at all; the M0 (no exclusive access) and bigger pools
// mask. Only a release that finds waiters enters the kernel's wake path.

/// A pool of fixed-size blocks declared in the manifest
/// (`"pools": {"name": {"block": 128, "count": 8}}`), reached through the constant of the same
/// name `keel build` generates. A block is 8-byte aligned raw memory; its contents are what
/// the last user left (nothing is zeroed).
@frozen
public struct MemoryPool: Sendable {
    @usableFromInline nonisolated(unsafe) let storage: UnsafeMutablePointer<UInt32>
    /// The first block's address.
    @usableFromInline let firstBlock: UInt32
    /// Bytes of one block in storage (the declared size rounded up to 8).
    @usableFromInline let blockStride: UInt32
    @usableFromInline let blockCount: UInt32
    /// `blockStride` is 2^strideShift, or strideShift is 0 and a block's index takes a division.
    @usableFromInline let strideShift: UInt32

    @_spi(Build) @inlinable
    public init(storage: UnsafeMutableRawPointer, blocks: UnsafeMutableRawPointer, stride: Int, count: Int, strideShift: Int) {
        self.storage = storage.assumingMemoryBound(to: UInt32.self)
        firstBlock = UInt32(UInt(bitPattern: blocks))
        blockStride = UInt32(truncatingIfNeeded: stride)
        blockCount = UInt32(truncatingIfNeeded: count)
        self.strideShift = UInt32(truncatingIfNeeded: strideShift)
    }

    /// Bytes of one block (the declared size rounded up to 8).
    public var stride: Int { Int(blockStride) }
    /// Blocks in the pool.
    public var count: Int { Int(blockCount) }

    @usableFromInline var waiters: UnsafeMutablePointer<UInt32> { storage }
    @usableFromInline var fullWords: UnsafeMutablePointer<UInt32> { storage + 1 }
    @usableFromInline var allocated: UnsafeMutablePointer<UInt32> { storage + 2 }
    /// One bit word holds the whole pool.
    @usableFromInline var isSmall: Bool { blockCount <= 32 }

    /// A free block, waiting for one until `timeout` passes.
    /// Blocks: yes. From: a task. Stack: switch.
    @inlinable @inline(__always)
    public func allocate(timeout: Timeout = .forever) throws(TimedOut) -> UnsafeMutableRawPointer {
        // Both paths end in the same address computation: the common one falls through to it.
        var index = take()
        if index == nil { index = try allocateWaiting(timeout: timeout) }
        return block(index.unsafelyUnwrapped)
    }

    /// A free block (the lowest-addressed one), or nil when every block is in use.
    /// Blocks: no. From: anywhere. Stack: leaf.
    @inlinable @inline(__always)
    public func tryAllocate() -> UnsafeMutableRawPointer? {
        guard let index = take() else { return nil }
        return block(index)
    }

    /// Gives `block` back and wakes the most urgent task waiting for one; from a handler, a
    /// more urgent woken task runs on exception return. Traps (a fault naming the caller,
    /// with the reason) when `block` is not the start of one of this pool's blocks, or is
    /// not allocated (released twice). Blocks: no. From: anywhere. Stack: leaf.
    @inlinable @inline(__always)
    public func release(_ block: UnsafeMutableRawPointer) {
        let offset = UInt32(UInt(bitPattern: block)) &- firstBlock
        let index: UInt32
        if strideShift != 0 {
            // Rotated, a block's offset is its index; any other offset (not a multiple of the
            // stride, or below the first block) turns into a number far above the count.
            index = offset &>> strideShift | offset &<< (32 &- strideShift)
            precondition(index < blockCount, "MemoryPool.release: not a block of this pool")
        } else {
            index = offset / blockStride
            precondition(index < blockCount && index &* blockStride == offset, "MemoryPool.release: not a block of this pool")
        }
        if isSmall { giveBackToTheOnlyWord(index) } else { giveBackToTwoLevels(index) }
        if waiters.pointee != 0 { wakeWaiter() }
    }

    /// Blocks free now. Blocks: no. From: anywhere. Stack: leaf.
    public var available: Int {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        var used = 0
        for word in 0..<(count + 31) / 32 { used += allocated[word].nonzeroBitCount }
        return count - used
    }

    /// A free block's index, taken; nil when none is free.
    @inlinable @inline(__always)
    func take() -> UInt32? { isSmall ? takeFromTheOnlyWord() : takeFromTwoLevels() }

    /// The address of block `index` (never null: the caller need not test it).
    @inlinable @inline(__always)
    func block(_ index: UInt32) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: UInt(firstBlock &+ (strideShift != 0 ? index &<< strideShift : index &* blockStride))).unsafelyUnwrapped
    }

    // MARK: - One bit word (up to 32 blocks)

    /// Sets the lowest clear bit below the count; its index, or nil when all are set.
    @inlinable @inline(__always)
    func takeFromTheOnlyWord() -> UInt32? {
        #if KEEL_ARMV6M || KEEL_THUMB1
        return takeFromTheOnlyWordMasked()
        #else
        // One try inline (no loop, so nothing to align); a lost race tries again masked.
        let used = ExclusiveAccess.load(allocated)
        let index = UInt32(truncatingIfNeeded: (~used).trailingZeroBitCount)
        guard index < blockCount else { ExclusiveAccess.clear(); return nil }
        if ExclusiveAccess.store(used | 1 &<< index, to: allocated) { return index }
        return takeAfterLostRace()
        #endif
    }

    /// Clears bit `index`, which must be set.
    @inlinable @inline(__always)
    func giveBackToTheOnlyWord(_ index: UInt32) {
        let bit: UInt32 = 1 &<< index
        #if KEEL_ARMV6M || KEEL_THUMB1
        giveBackToTheOnlyWordMasked(bit)
        #else
        let used = ExclusiveAccess.load(allocated)
        requireAllocated(used, bit)
        if !ExclusiveAccess.store(used & ~bit, to: allocated) { giveBackAfterLostRace(bit) }
        #endif
    }

    @inlinable @inline(__always)
    func takeFromTheOnlyWordMasked() -> UInt32? {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        let used = allocated.pointee
        let index = UInt32(truncatingIfNeeded: (~used).trailingZeroBitCount)
        guard index < blockCount else { return nil }
        allocated.pointee = used | 1 &<< index
        return index
    }

    @inlinable @inline(__always)
    func giveBackToTheOnlyWordMasked(_ bit: UInt32) {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        requireAllocated(allocated.pointee, bit)
        allocated.pointee &= ~bit
    }

    /// An exclusive store failed (an interrupt came between load and store): again, masked,
    /// so it cannot lose twice. The release is checked again: a handler may have released
    /// the same block in between.
    @usableFromInline @inline(never)
    func takeAfterLostRace() -> UInt32? { takeFromTheOnlyWordMasked() }
    @usableFromInline @inline(never)
    func giveBackAfterLostRace(_ bit: UInt32) { giveBackToTheOnlyWordMasked(bit) }

    /// Traps when `bit` of the bit word `used` is clear: the block is free already.
    @inlinable @inline(__always)
    func requireAllocated(_ used: UInt32, _ bit: UInt32) {
        precondition(used & bit != 0, "MemoryPool.release: the block is not allocated (released twice?)")
    }

    // MARK: - Two levels (33 to 1024 blocks), interrupts masked

    /// The lowest free block: the first word with a clear bit (from the summary), then its
    /// lowest clear bit. O(1).
    @usableFromInline @inline(never)
    func takeFromTwoLevels() -> UInt32? {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        let words = (blockCount &+ 31) &>> 5
        let word = UInt32(truncatingIfNeeded: (~fullWords.pointee).trailingZeroBitCount)
        guard word < words else { return nil }
        let bits = allocated + Int(word)
        let index = word &<< 5 | UInt32(truncatingIfNeeded: (~bits.pointee).trailingZeroBitCount)
        // Only the last word can have clear bits past the count, and it is the word chosen
        // only when every earlier one is full: then the pool is empty.
        guard index < blockCount else { return nil }
        bits.pointee |= 1 &<< (index & 31)
        if bits.pointee == ~0 { fullWords.pointee |= 1 &<< word }
        return index
    }

    @usableFromInline @inline(never)
    func giveBackToTwoLevels(_ index: UInt32) {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        let bits = allocated + Int(index &>> 5)
        let bit: UInt32 = 1 &<< (index & 31)
        requireAllocated(bits.pointee, bit)
        bits.pointee &= ~bit
        fullWords.pointee &= ~(1 &<< (index &>> 5))
    }

    // MARK: - Waiting

    /// `allocate` when the pool was empty: waits, trying again at each wake-up; the block's index.
    @usableFromInline @inline(never)
    func allocateWaiting(timeout: Timeout) throws(TimedOut) -> UInt32 {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        // Masked from here, so a release cannot slip in between the last look and the wait.
        if let index = take() { return index }
        var deadline = Deadline(timeout)
        while Waiting.wait(on: waiters, until: &deadline, interrupts: interrupts, lendsPriority: false) {
            if let index = take() { return index }
        }
        throw TimedOut()
    }

    /// A release saw waiters: the most urgent one runs its `allocate` loop again.
    @usableFromInline @inline(never)
    func wakeWaiter() {
        let interrupts = Interrupts.mask()
        Waiting.wakeOne(waiters)
        Interrupts.restore(interrupts)
    }
}
