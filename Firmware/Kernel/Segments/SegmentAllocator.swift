// Where segmented stacks get their further segments: the stack strategy, chosen by the
// application like a global allocator.
//
// The kernel keeps the chains, the kept segments, the limits and the accounting; an
// allocator only says which bytes of the segment region a task may have. Two come with Keel:
//   SegmentPool        one pool shared by every segmented task, highest fit (the default):
//                      least RAM, but one task's deep phase can take what another needs;
//   ReservedSegments   each task a reserve of its own (`max` less its first segment): a
//                      task always reaches its `max` whatever the others do, for the RAM of
//                      every reserve at once.
// keel.json chooses with `"segment_allocator": "pool" | "reserved" | "<Type>"`, a type of the
// application that conforms to `SegmentAllocator`. `keel build` generates the two C-named
// calls below for the chosen type, so the kernel calls it directly (no function pointer the
// stack analysis would have to guess at) and the kernel's module is the same for all.
//
// An allocator runs inside `__morestack`'s slow path, with interrupts masked, on the handler
// stack, and without the split-stack check (it is reached from a C name): it must be small,
// must not allocate, print or block. `keel check` counts its stack use on the handler stack
// (StackAnalysis.handlerStack: "segment slow path"). (The protocol and the two
// allocators are in every kernel, so an application's own allocator compiles whatever the
// image's route; only a split image calls one.)

/// A strategy for segmented stacks' further segments. Every size is a multiple of 64 bytes
/// (`SegmentPool.granuleBytes`); `task` is the task's index in the kernel's table (most
/// urgent first, as `Keel.task(_:)` counts).
public protocol SegmentAllocator {
    /// Made once at boot, before any task runs: `region` is the RAM the layout set aside for
    /// segments (`"segment_pool"` bytes), `reserves` per task in table order the most bytes
    /// its further segments may hold (its `max` less its first segment; 0 for a fixed stack).
    init(region: UnsafeMutableRawBufferPointer, reserves: UnsafeBufferPointer<UInt32>)
    /// The lowest address of `bytes` free bytes for `task`, or nil when there are none.
    /// Blocks: never. Called with interrupts masked, from `__morestack`.
    mutating func allocate(_ bytes: UInt32, task: Int) -> UInt32?
    /// Takes back bytes this allocator gave `task` (a segment, or a growth `claim` gave).
    /// Blocks: never; interrupts masked.
    mutating func release(_ bottom: UInt32, bytes: UInt32, task: Int)
    /// Gives `task` exactly `bytes` from `bottom` when every one of them is free, and says
    /// whether it did: the kernel asks for the bytes just below the segment in use, to grow
    /// it down in place instead of splitting (an allocator that never can answers false,
    /// the default). Blocks: never; interrupts masked.
    mutating func claim(_ bottom: UInt32, bytes: UInt32, task: Int) -> Bool
}

extension SegmentAllocator {
    public mutating func claim(_ bottom: UInt32, bytes: UInt32, task: Int) -> Bool { false }
}

#if KEEL_SPLIT_STACK

// The generated calls (`keel build`, KeelGenerated.swift): the application's allocator.
@_extern(c, "keel_segment_allocate") func applicationSegmentAllocate(_ bytes: UInt32, _ task: UInt32) -> UInt32
@_extern(c, "keel_segment_free") func applicationSegmentFree(_ bottom: UInt32, _ bytes: UInt32, _ task: UInt32)
@_extern(c, "keel_segment_claim") func applicationSegmentClaim(_ bottom: UInt32, _ bytes: UInt32, _ task: UInt32) -> Bool

/// The segment region as the kernel accounts for it, whatever allocator hands it out.
struct SegmentRegion {
    var start: UInt32 = 0
    var totalBytes: UInt32 = 0
    var freeBytes: UInt32 = 0
    /// Fewest free bytes there ever were.
    var lowestFreeBytes: UInt32 = 0
    /// Segments handed out and taken back since boot.
    var allocations: UInt32 = 0
    var releases: UInt32 = 0
    /// Tasks' requests for a segment that were refused, by the allocator or by the task's
    /// `max` (the allocator's here; those at a task's `max` in `SegmentedStacks.split`).
    var refusals: UInt32 = 0
    /// Times a segment grew down in place into the bytes below it.
    var growths: UInt32 = 0

    mutating func configure(start: UInt32, bytes: UInt32) {
        self.start = start
        totalBytes = bytes & ~(SegmentPool.granuleBytes &- 1)
        freeBytes = totalBytes
        lowestFreeBytes = totalBytes
    }

    mutating func allocate(_ bytes: UInt32, task: Int) -> UInt32? {
        let bottom = applicationSegmentAllocate(bytes, UInt32(truncatingIfNeeded: task))
        guard bottom != 0 else {
            refusals &+= 1
            return nil
        }
        take(bytes)
        allocations &+= 1
        return bottom
    }

    /// Bytes just below a segment, for it to grow down in place (`SegmentedStacks.growInPlace`):
    /// counted as growths, not as segments handed out.
    mutating func claim(_ bottom: UInt32, bytes: UInt32, task: Int) -> Bool {
        guard applicationSegmentClaim(bottom, bytes, UInt32(truncatingIfNeeded: task)) else { return false }
        take(bytes)
        growths &+= 1
        return true
    }

    /// Gives back part or all of a growth (not a segment: no release is counted).
    mutating func shrink(_ bottom: UInt32, bytes: UInt32, task: Int) {
        applicationSegmentFree(bottom, bytes, UInt32(truncatingIfNeeded: task))
        freeBytes &+= bytes
    }

    mutating func free(_ bottom: UInt32, bytes: UInt32, task: Int) {
        shrink(bottom, bytes: bytes, task: task)
        releases &+= 1
    }

    /// Bytes handed out: fewer free, and perhaps a new low.
    private mutating func take(_ bytes: UInt32) {
        freeBytes &-= bytes
        if freeBytes < lowestFreeBytes { lowestFreeBytes = freeBytes }
    }
}

#endif
