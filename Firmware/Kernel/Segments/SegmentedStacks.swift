// Segmented stacks: what `__morestack` (Port/armv6m/MoreStack.S) asks the kernel for.
//
// Every function of task code starts with LLVM's split-stack prologue: it compares SP (minus
// its frame, for frames of 256 bytes and more) with the word `__STACK_LIMIT` and calls
// `__morestack` when there is too little room. `__morestack` masks interrupts; when the
// segment in use has a segment kept above it that is large enough, it moves onto that one
// itself (the fast path); otherwise it calls `keel_segment_grow` on the handler stack
// (so that none of this file's code needs the task's slack), which either grows the segment
// in use down in place (the function then runs right there) or hands it a new segment from
// the allocator. When the function returns, `__morestack` goes back down the
// chain itself: the segment stays linked above the one below it, kept for the next split.
//
// Which bytes a segment gets is the application's allocator's choice (SegmentAllocator.swift).
//
// The limit word belongs to the running task: the port loads it from the task's context at
// every switch-in (`SavedContext.splitLimit`), and every change of segment sets both from the
// header of the segment it moves to. It lies `slackBytes` above the segment's bottom (plus
// the guard's bytes on the M3), because a frame
// under 256 bytes is compared by SP alone and code without the prologue (leaves, the kernel,
// `__morestack` itself, an exception frame) runs below it. On the M33 PSPLIM holds the
// segment's true bottom: code that runs off the slack faults in hardware (STKOF) instead of
// writing below it. On the M3 an MPU region over the segment's lowest 32 bytes does the same
// for any access (SegmentGuard.swift).
//
// A segment's top 24 bytes are its header (`SegmentHeader`): the segment below it and the one
// kept above it, the SP to go back to, the limit the prologue compares with while it is in
// use, its bottom, and the room it has for a function's frame and arguments. A task's first
// segment (the stack the layout planner placed, never released) has its header in the task's
// chain. The segments a task holds form one list up from there: those in use, then those it
// keeps. Going down the chain changes nothing but which one is in use, so the bytes a task
// holds include what it keeps, and only the allocator's paths count them.
//
// No hot split: when the bytes just below the segment in use are free, it grows down into
// them (`growInPlace`), so a loop calling a function across the boundary grows once and
// never calls `__morestack` again; the layout puts the first segmented task's first segment
// on the pool for that. Otherwise the segment released stays kept above the one below it,
// so such a loop takes it every time and never touches the pool. What a task keeps goes back
// to the pool when it waits (`returnUnused`, with what its first segment grew by), when
// another task's request would otherwise fail, and when it stops; a kept segment too small
// for the next split at its place goes back with everything above it.
//
// Fixed stacks in a split image have a chain too (no segments): under T6 their limit keeps
// the same slack above their bottom (`resetFixed`).
//
// Exhaustion: when the pool cannot serve a request, or the task would hold more than its
// `max`, the request is refused. Grow records why, pends PendSV and lets it run: the
// switch-out path reports the task and applies its fault policy (kill or restart), and
// every segment the task held goes back to the pool. The other tasks run on.

#if KEEL_SPLIT_STACK

@_extern(c, "__morestack") func moreStackStart()
@_extern(c, "keel_morestack_end") func moreStackEnd()
/// Back on the task's stack (grow runs on the handler stack), interrupts on, waiting for the
/// pending PendSV (Port/armv6m/MoreStack.S).
@_extern(c, "keel_segment_refused_wait") func segmentRefusedWait()

/// The word the split-stack prologue compares SP with: the running task's segment limit.
@_silgen_name("__STACK_LIMIT")
nonisolated(unsafe) var stackLimitWord: UInt32 = 0

/// The running task's chain (an address), kept at every switch-in (`runningTaskChanged`):
/// `__morestack`'s fast path (Port/armv6m/MoreStack.S) starts from it.
@_silgen_name("keel_running_chain")
nonisolated(unsafe) var runningChainAddress: UInt32 = 0
/// The slack below every limit (the figure `keel` planned with).
nonisolated(unsafe) var segmentSlackWord: UInt32 = 384
/// What a segment holds besides a function's frame and stack arguments: its header, 4 bytes
/// of alignment, the guard's band and the slack.
nonisolated(unsafe) var segmentFitWord: UInt32 = 0

/// A segment's header, in its top 24 bytes (a first segment's is in its chain). Its fields
/// are read and written one at a time, at the compiler's offsets (MoreStack.S's HEADER_
/// lines, checked at boot).
struct SegmentHeader {
    /// Header of the segment below in the chain; 0 for a first segment.
    var previous: UInt32 = 0
    /// Header of a segment kept above this one (released, still the task's); 0 if none.
    var next: UInt32 = 0
    /// The SP `__morestack` goes back to on the segment below (past its four saved words).
    var returnStackPointer: UInt32 = 0
    /// The prologue's limit while this segment is in use: the slack (and the guard's band)
    /// above its bottom.
    var limit: UInt32 = 0
    var bottom: UInt32 = 0
    /// The most frame and stack-argument bytes a function that splits may need to run on it
    /// (its size less `segmentFitWord`); 0 for a first segment.
    var room: UInt32 = 0

    static let bytes = UInt32(MemoryLayout<SegmentHeader>.size)
    static var previousOffset: UInt32 { UInt32(MemoryLayout<SegmentHeader>.offset(of: \SegmentHeader.previous).unsafelyUnwrapped) }
    static var nextOffset: UInt32 { UInt32(MemoryLayout<SegmentHeader>.offset(of: \SegmentHeader.next).unsafelyUnwrapped) }
    static var returnStackPointerOffset: UInt32 {
        UInt32(MemoryLayout<SegmentHeader>.offset(of: \SegmentHeader.returnStackPointer).unsafelyUnwrapped)
    }
    static var limitOffset: UInt32 { UInt32(MemoryLayout<SegmentHeader>.offset(of: \SegmentHeader.limit).unsafelyUnwrapped) }
    static var bottomOffset: UInt32 { UInt32(MemoryLayout<SegmentHeader>.offset(of: \SegmentHeader.bottom).unsafelyUnwrapped) }
    static var roomOffset: UInt32 { UInt32(MemoryLayout<SegmentHeader>.offset(of: \SegmentHeader.room).unsafelyUnwrapped) }
}

/// One task's segments and what they cost; a fixed stack in a split image has one too (its
/// first header holds its limit, and nothing is ever kept above it).
@_spi(Build) public struct SegmentChain {
    /// The first segment's header (offset 0: a chain's address is its first header's).
    var first = SegmentHeader()
    /// Header of the segment in use: `first`'s address while the task runs on its first
    /// segment. (`__morestack` reads `current`, `task` and `splits` at fixed offsets.)
    var current: UInt32 = 0
    /// The task's control block (an address), for `__morestack`.
    var task: UInt32 = 0
    /// Calls to `__morestack` that got a segment, and growths in place.
    var splits: UInt32 = 0
    /// 0: the task's stack is fixed (not segmented).
    var maximumBytes: UInt32 = 0
    /// Bytes of each further segment (more when one frame needs more).
    var segmentBytes: UInt32 = 0
    /// Bytes the task holds: its first segment (with what it grew by in place), the segments
    /// in use and those it keeps above them.
    var heldBytes: UInt32 = 0
    var peakBytes: UInt32 = 0
    /// Segments the task holds, the first included.
    var segments: UInt32 = 1
    var peakSegments: UInt32 = 1
    /// Segments taken from the allocator (a split that reuses a kept segment takes none).
    var poolAllocations: UInt32 = 0
    /// Deepest use of the slack below a limit seen so far, in bytes (read from paint).
    var slackPeak: UInt32 = 0
    /// Bytes the refused function asked for (frame plus stack arguments).
    var refusedBytes: UInt32 = 0
    /// Where the refused function was called from, and its SP then.
    var refusedReturnAddress: UInt32 = 0
    var refusedStackPointer: UInt32 = 0
    /// Why the last request was refused (`Refusal`), read by the switch-out path.
    var refusal: UInt8 = 0
    /// False until the first segment's slack was painted (so there is something to measure).
    var slackPainted = false

    @_spi(Build) public init() {}
}

enum Refusal: UInt8 {
    case none = 0
    /// The allocator had no free run large enough (the shared pool, or with
    /// `ReservedSegments` the task's own reserve).
    case pool
    /// The task would hold more than its manifest's `max`.
    case maximum
    /// The task's stack is fixed: the prologue found it full (an overflow, caught early).
    case fixedStack
    /// Not a segment: the heap could not satisfy an allocation (`Faults.outOfMemory`). It
    /// takes the same way out, so that nothing is reported from the slack it may run in.
    case heap

    var reportName: StaticString {
        switch self {
        case .none: "none"
        case .pool: "pool-empty"
        case .maximum: "task-max"
        case .fixedStack: "fixed-stack-full"
        case .heap: "heap"
        }
    }
}

@_spi(Build) public enum SegmentedStacks {
    /// Bytes between a segment's bottom and its limit (the same figure `keel` plans with),
    /// kept in the word `__morestack` reads.
    @inline(__always)
    static var slackBytes: UInt32 { segmentSlackWord }
    /// The segment region and its accounting; the application's allocator hands it out.
    nonisolated(unsafe) static var pool = SegmentRegion()
    nonisolated(unsafe) static var chains: UnsafeMutablePointer<SegmentChain>? = nil
    /// The chain `__morestack` finds while an interrupt handler's split code runs (the
    /// dispatcher's, `interruptDispatch`): it keeps nothing, so a split there always reaches
    /// `grow`, which reports the handler's overflow.
    nonisolated(unsafe) static var handlerChain = SegmentChain()
    static var handlerChainAddress: UInt32 { withUnsafeMutablePointer(to: &handlerChain) { UInt32(UInt(bitPattern: $0)) } }
    /// The task whose request was refused, until PendSV has applied its policy.
    nonisolated(unsafe) static var refusedTask: TaskPointer? = nil
    /// Ticks that interrupted a task inside `__morestack` (the interrupt test reads this).
    nonisolated(unsafe) static var ticksInsideMoreStack: UInt32 = 0

    /// Called by the generated start-up code before `Kernel.start`.
    /// `sizes`: per task, its `max` and its segment size (both 0 for a fixed stack).
    @_spi(Build) public static func configure(chains: UnsafeMutablePointer<SegmentChain>, sizes: UnsafeBufferPointer<UInt32>,
                          poolStart: UInt32, poolBytes: UInt32, slackBytes: UInt32) {
        checkFastPathLayout()
        self.chains = chains
        segmentSlackWord = slackBytes
        segmentFitWord = SegmentHeader.bytes &+ 4 &+ SegmentGuard.bytes &+ slackBytes
        for index in 0..<(sizes.count / 2) {
            chains[index] = SegmentChain()
            chains[index].maximumBytes = sizes[2 &* index]
            chains[index].segmentBytes = sizes[2 &* index &+ 1]
        }
        pool.configure(start: poolStart, bytes: poolBytes)
        handlerChain.current = handlerChainAddress  // its first header, with nothing above it
    }

    /// The offsets `__morestack`'s fast path uses (its `.equ` lines; the control block's are
    /// the port's, checked by PortContract) against the compiler's:
    /// folded away when they agree, a trap at boot when a field moved and MoreStack.S was not
    /// updated.
    static func checkFastPathLayout() {
        typealias C = SegmentChain
        typealias H = SegmentHeader
        typealias T = TaskControlBlock
        let agrees = MemoryLayout<C>.offset(of: \C.first) == 0 && MemoryLayout<C>.offset(of: \C.current) == 24
            && MemoryLayout<C>.offset(of: \C.task) == 28 && MemoryLayout<C>.offset(of: \C.splits) == 32
            && H.previousOffset == 0 && H.nextOffset == 4 && H.returnStackPointerOffset == 8 && H.limitOffset == 12
            && H.bottomOffset == 16 && H.roomOffset == 20 && H.bytes == 24
            && MemoryLayout<T>.offset(of: \T.context.switchRegions.base0) == Int(PortLayout.switchRegions)
        if !agrees { fatalError("MoreStack.S: offsets differ from the compiler's layout") }
    }

    /// The scheduler's call at every switch-in: `__morestack` finds the running task's chain
    /// in one load.
    @inline(__always)
    static func runningTaskChanged(_ task: TaskPointer) {
        runningChainAddress = UInt32(UInt(bitPattern: chain(task)))
    }

    @inline(__always)
    static func chain(_ task: TaskPointer) -> UnsafeMutablePointer<SegmentChain> {
        chains.unsafelyUnwrapped + Int(task.pointee.index)
    }

    /// The address of a chain's first header (the chain's own).
    @inline(__always)
    static func firstHeader(_ chain: UnsafeMutablePointer<SegmentChain>) -> UInt32 {
        UInt32(UInt(bitPattern: chain))
    }

    /// One field of the running task's chain, read with a volatile load. `__morestack` changes
    /// the chain behind the compiler's back: to the task's code a call that split wrote
    /// nothing, so a plain load before it could be reused after it.
    @inline(__always)
    static func observe(_ field: (UnsafeMutablePointer<SegmentChain>) -> UnsafeMutableRawPointer) -> UInt32 {
        Register(address: UInt(bitPattern: field(chain(currentTask.unsafelyUnwrapped)))).read()
    }

    /// Points the task's limits at the segment whose header is `header`: the prologue's limit
    /// (from the header), PSPLIM (M33) and the MPU guard (M3) at the segment's bottom.
    @inline(__always)
    static func setLimits(_ task: TaskPointer, segment header: UInt32) {
        let limit = SegmentHeader.limit(header)
        let bottom = SegmentHeader.bottom(header)
        task.pointee.context.splitLimit = limit
        #if KEEL_LIMIT_REGISTER
        task.pointee.context.stackLimit = bottom  // PSPLIM, loaded by the port
        #endif
        SegmentGuard.follow(task, segmentBottom: bottom)
        if task == currentTask { stackLimitWord = limit }
    }

    /// Before the task (re)starts, and when it stops: every segment back to the pool, the
    /// limits on the first segment, whose slack is painted to measure its use.
    /// (Two functions that are not inlined: a task that exits runs this on its own stack, and
    /// a fixed stack's reset should cost it no more than its own few words.)
    static func reset(_ task: TaskPointer) {
        let chain = self.chain(task)
        chain.pointee.task = UInt32(UInt(bitPattern: task))
        if chain.pointee.maximumBytes == 0 { resetFixed(task, chain) } else { resetSegmented(task, chain) }
    }

    @inline(never)
    static func resetSegmented(_ task: TaskPointer, _ chain: UnsafeMutablePointer<SegmentChain>) {
        let interrupts = Interrupts.mask()
        let firstHeader = self.firstHeader(chain)
        returnKept(chain, above: firstHeader)  // every segment the task held, in use or kept
        let first = chain.pointee.first.bottom
        if chain.pointee.slackPainted && first != 0 { measureSlack(chain, segmentBottom: first) }
        if first != 0 && first < task.pointee.stackBottom { pool.shrink(first, bytes: task.pointee.stackBottom &- first, task: Int(task.pointee.index)) }
        chain.pointee.first = SegmentHeader()
        SegmentHeader.setBottom(firstHeader, task.pointee.stackBottom)
        chain.pointee.current = firstHeader
        chain.pointee.segments = 1
        chain.pointee.heldBytes = task.pointee.stackBytes
        chain.pointee.peakBytes = max(chain.pointee.peakBytes, chain.pointee.heldBytes)
        setLimits(task, segment: firstHeader)  // first: the guard leaves the segment in use
        paintSlack(segmentBottom: task.pointee.stackBottom)
        chain.pointee.slackPainted = true
        Interrupts.restore(interrupts)
    }

    /// A fixed stack in a split image. Under T6 (`prologue-check`) its limit lies the slack
    /// above the bottom, like a segment's: the prologue refuses a call before its frame is
    /// built, and the code that runs below the limit without a check (proven by `keel check`
    /// to fit the slack) still stays inside the stack. The slack is painted so that its use
    /// is measured. Without T6 the limit is the bottom itself: the prologue still catches a
    /// deep call, but only once SP is already at the bottom, after the writes below it.
    /// (Its first header keeps nothing above it, so `__morestack` always asks `grow`, which
    /// refuses.)
    @inline(never)
    static func resetFixed(_ task: TaskPointer, _ chain: UnsafeMutablePointer<SegmentChain>) {
        let bottom = task.pointee.stackBottom
        var limit = bottom
        if task.pointee.protections.contains(.prologueCheck) {
            if chain.pointee.slackPainted { measureSlack(chain, from: bottom) }
            paintSlack(from: bottom)
            chain.pointee.slackPainted = true
            limit = bottom &+ slackBytes
        }
        chain.pointee.first = SegmentHeader(limit: limit, bottom: bottom)
        chain.pointee.current = firstHeader(chain)
        // Only the prologue's limit: PSPLIM on a fixed stack belongs to T1 (LimitRegister.swift).
        task.pointee.context.splitLimit = limit
        if task == currentTask { stackLimitWord = limit }
    }

    // MARK: Grow (called by __morestack with interrupts masked)

    /// What `__morestack` asks for when its fast path found no kept segment that fits a
    /// function needing `frameBytes` below its stack arguments (`argumentBytes`); called
    /// with interrupts masked. First in place (`growInPlace`): when the allocator has the
    /// bytes just below the segment in use free, that segment grows down into them, the
    /// limits move down and this returns 0, and `__morestack` runs the function right there:
    /// no new stack, no copy, and no way back through `__morestack`, so a loop that called
    /// across this boundary never splits again (the hot split's cure; the bytes go back when
    /// the task waits, `returnUnused`, or with the segment). Otherwise a new segment
    /// (`split`), after what was kept above the segment in use (too small) went back; when
    /// the allocator has none, what every task keeps goes back and it asks once more.
    /// Going back down is `__morestack`'s alone.
    @inline(__always)
    static func grow(frameBytes: UInt32, argumentBytes: UInt32, oldStackPointer: UInt32) -> UInt32 {
        guard !Processor.isInHandlerMode else { handlerOverflow(oldStackPointer) }
        if growInPlace(frameBytes: frameBytes, oldStackPointer: oldStackPointer) { return 0 }
        let chain = self.chain(currentTask.unsafelyUnwrapped)
        returnKept(chain, above: chain.pointee.current)
        var stackPointer = split(frameBytes: frameBytes, argumentBytes: argumentBytes, oldStackPointer: oldStackPointer)
        if stackPointer == 0 && returnKeptToPool() {
            stackPointer = split(frameBytes: frameBytes, argumentBytes: argumentBytes, oldStackPointer: oldStackPointer)
        }
        if stackPointer == 0 { refuse(currentTask.unsafelyUnwrapped, .pool, frameBytes &+ argumentBytes, oldStackPointer) }
        return stackPointer
    }

    /// A new segment from the allocator, linked above the one in use (which keeps nothing
    /// above it by now), made current: the limits move to it, and the new SP is returned,
    /// with room for the stack arguments, which `__morestack` copies; 0 when the allocator
    /// has no room. Refuses a fixed stack (its overflow) and a task at its `max`.
    @inline(never)
    static func split(frameBytes: UInt32, argumentBytes: UInt32, oldStackPointer: UInt32) -> UInt32 {
        let task = currentTask.unsafelyUnwrapped
        let chain = self.chain(task)
        guard chain.pointee.maximumBytes != 0 else { refuse(task, .fixedStack, frameBytes &+ argumentBytes, oldStackPointer) }
        // Header, arguments (plus alignment), the frame, the guard's band and the slack.
        let bytes = max(roundUpToGranule(segmentFitWord &+ argumentBytes &+ frameBytes), chain.pointee.segmentBytes)
        guard chain.pointee.heldBytes &+ bytes <= chain.pointee.maximumBytes else {
            pool.refusals &+= 1  // (the allocator's own refusals are counted by `pool.allocate`)
            refuse(task, .maximum, frameBytes &+ argumentBytes, oldStackPointer)
        }
        guard let bottom = pool.allocate(bytes, task: Int(task.pointee.index)) else { return 0 }
        chain.pointee.poolAllocations &+= 1
        paintSlack(segmentBottom: bottom)  // not under the guard: that is still on the segment in use
        let below = chain.pointee.current
        let header = bottom &+ bytes &- SegmentHeader.bytes
        Memory.storeWord(header &+ SegmentHeader.previousOffset, below)
        Memory.storeWord(header &+ SegmentHeader.nextOffset, 0)
        SegmentHeader.setBottom(header, bottom)
        Memory.storeWord(below &+ SegmentHeader.nextOffset, header)
        chain.pointee.heldBytes &+= bytes
        chain.pointee.segments &+= 1
        if chain.pointee.heldBytes > chain.pointee.peakBytes { chain.pointee.peakBytes = chain.pointee.heldBytes }
        if chain.pointee.segments > chain.pointee.peakSegments { chain.pointee.peakSegments = chain.pointee.segments }
        // As the fast path does: the segment is in use, release goes back past __morestack's
        // four saved words, and the arguments start 8-byte aligned below the header
        // (`__morestack` loads r4 and r5 itself and enters the body past its pop).
        chain.pointee.current = header
        Memory.storeWord(header &+ SegmentHeader.returnStackPointerOffset, oldStackPointer &+ 16)
        chain.pointee.splits &+= 1
        setLimits(task, segment: header)
        return (header &- argumentBytes) & ~7
    }

    /// The in-place growth of `grow`: true when the segment in use now reaches far enough
    /// down for the function (its frame and the slack below the new limit, from the SP it
    /// was called with).
    static func growInPlace(frameBytes: UInt32, oldStackPointer: UInt32) -> Bool {
        let task = currentTask.unsafelyUnwrapped
        let chain = self.chain(task)
        guard chain.pointee.maximumBytes != 0 else { return false }
        let header = chain.pointee.current
        let bottom = SegmentHeader.bottom(header)
        let below = frameBytes &+ slackBytes &+ SegmentGuard.bytes
        let wanted = (oldStackPointer &- below) & ~(SegmentPool.granuleBytes &- 1)
        guard wanted < bottom, oldStackPointer > below else { return false }
        let bytes = bottom &- wanted
        guard chain.pointee.heldBytes &+ bytes <= chain.pointee.maximumBytes,
              pool.claim(wanted, bytes: bytes, task: Int(task.pointee.index)) else { return false }
        SegmentHeader.setBottom(header, wanted)  // the header stays at the top; the segment reaches lower
        chain.pointee.heldBytes &+= bytes
        if chain.pointee.heldBytes > chain.pointee.peakBytes { chain.pointee.peakBytes = chain.pointee.heldBytes }
        chain.pointee.splits &+= 1
        chain.pointee.poolAllocations &+= 1
        measureSlack(chain, segmentBottom: bottom)
        setLimits(task, segment: header)  // first: the guard moves down off the old bottom
        paintSlack(segmentBottom: wanted)  // below the function's frame: nothing of the task's is there
        return true
    }

    /// When a task that waits (sleeps or blocks) is switched out, and when it asks
    /// (`Keel.returnStackGrowth`): the segments it keeps above the one in use go back to the
    /// pool, and if it runs on its first segment and that grew down in place, so does the part
    /// of the growth below `stackPointer` and the slack under it. A task preempted in a loop
    /// keeps both, so a loop across a boundary does not pay for it again at every tick, and
    /// another task's request takes only the kept segments (`returnKeptToPool`): a preempted
    /// task may be in the very loop its growth is for.
    /// `stackPointer`: the lowest the task's stack is in use (its saved SP when it is switched
    /// out; below the caller's own frames when it asks).
    static func returnUnused(_ task: TaskPointer, stackPointer: UInt32) {
        let chain = self.chain(task)
        guard chain.pointee.maximumBytes != 0 else { return }
        let current = chain.pointee.current
        returnKept(chain, above: current)
        let first = chain.pointee.first.bottom
        let bottom = task.pointee.stackBottom
        guard first < bottom && current == firstHeader(chain) else { return }
        // Everything below that SP is free; keep the slack under it.
        let keep = (stackPointer &- slackBytes &- SegmentGuard.bytes) & ~(SegmentPool.granuleBytes &- 1)
        let newFirst = min(keep, bottom)
        guard newFirst > first else { return }
        measureSlack(chain, segmentBottom: first)
        SegmentHeader.setBottom(current, newFirst)
        setLimits(task, segment: current)  // first: the guard leaves the bytes going back
        pool.shrink(first, bytes: newFirst &- first, task: Int(task.pointee.index))
        chain.pointee.heldBytes &-= newFirst &- first
        paintSlack(segmentBottom: newFirst)
    }

    // MARK: Refusal (exhaustion)

    /// Records why the request failed and lets PendSV stop the task; never returns.
    static func refuse(_ task: TaskPointer, _ reason: Refusal, _ bytes: UInt32, _ stackPointer: UInt32) -> Never {
        let chain = self.chain(task)
        chain.pointee.refusal = reason.rawValue
        chain.pointee.refusedBytes = bytes
        chain.pointee.refusedStackPointer = stackPointer
        // __morestack pushed r0-r3 and its own return address on top of the function's.
        chain.pointee.refusedReturnAddress = Memory.loadWord(stackPointer &+ 20)
        refusedTask = task
        Processor.requestContextSwitch()
        segmentRefusedWait()  // PendSV runs now and never comes back to this task's request
        while true { Processor.waitForInterrupt() }  // (not reached)
    }

    /// PendSV's switch-out check: applies the policy of a task whose request was refused.
    /// True when it reported `task` (its switch-out checks then have nothing more to say).
    @inline(never)
    static func stopRefusedTask(_ task: TaskPointer) -> Bool {
        guard refusedTask == task else { return false }
        refusedTask = nil
        let chain = self.chain(task)
        let reason = Refusal(rawValue: chain.pointee.refusal) ?? .none
        if reason == .heap {
            chain.pointee.refusal = 0
            let diagnosis = Faults.diagnosisAtSwitch(task, FaultReport(task: task, kind: .outOfMemory, technique: .none, pc: 0, sp: 0,
                                                                       limit: chain.pointee.refusedBytes))
            // Out of memory is always a kill (the allocation cannot come back); what the way out
            // wrote below the stack is contained as for any other stop.
            Faults.report(diagnosis.fault, action: "kill")
            FaultPolicy.kill(task, from: .contextSwitch)
            Containment.contain(diagnosis, culprit: task)
            return true
        }
        if reason == .fixedStack {
            // An overflow of a fixed stack, not a segment request: no pool line.
            chain.pointee.refusal = 0
            let prologueCheck = task.pointee.protections.contains(.prologueCheck)
            // A T6 stack keeps the slack for the way out; a fixed stack without it may not have:
            // a saved SP below the stack is contained like any other overflow.
            let fault = FaultReport(task: task, kind: .stackOverflow, technique: prologueCheck ? .prologueCheck : .splitStack,
                                    pc: chain.pointee.refusedReturnAddress, sp: chain.pointee.refusedStackPointer,
                                    limit: task.pointee.context.splitLimit)
            FaultResponse.respond(to: Faults.diagnosisAtSwitch(task, fault), from: .contextSwitch)
            return true
        }
        Console.write("keel:segments-refused task=")
        Console.write(task.pointee.name)
        Console.write(" reason=")
        Console.write(reason.reportName)
        Console.write(" asked=")
        Console.write(decimal: chain.pointee.refusedBytes)
        Console.write(" held=")
        Console.write(decimal: chain.pointee.heldBytes)
        Console.write(" segments=")
        Console.write(decimal: chain.pointee.segments)
        Console.write(" max=")
        Console.write(decimal: chain.pointee.maximumBytes)
        Console.write(" pool_free=")
        Console.write(decimal: pool.freeBytes)
        Console.write("\n")
        let fault = FaultReport(task: task, kind: .stackExhausted, technique: .splitStack, pc: chain.pointee.refusedReturnAddress,
                                sp: chain.pointee.refusedStackPointer, limit: task.pointee.context.splitLimit)
        chain.pointee.refusal = 0
        FaultPolicy.apply(fault, to: task, from: .contextSwitch)
        return true
    }

    /// Split code of an interrupt handler ran out of the handler stack (the dispatcher gave
    /// it the handler stack's limit): a handler overflow, which resets. The report runs on a
    /// fresh handler stack: only the slack is left below this one, and the M0 has no guard.
    static func handlerOverflow(_ stackPointer: UInt32) -> Never {
        Faults.resetOnFreshMainStack(FaultReport(task: nil, kind: .stackOverflow, technique: .splitStack,
                                                 pc: Memory.loadWord(stackPointer &+ 20), sp: stackPointer, limit: stackLimitWord))
    }

    /// SysTick's probe: counts ticks that found the task inside `__morestack` (between its
    /// masked sections), which the interrupt test asks for. SysTick only ever interrupts
    /// thread mode (it is the least urgent exception), so the frame is on PSP.
    static func countTickInsideMoreStack() {
        let pc = Memory.loadWord(portProcessStack() &+ 24)
        let start = linkerSymbol(moreStackStart) & ~1
        if pc >= start && pc < linkerSymbol(moreStackEnd) & ~1 { ticksInsideMoreStack &+= 1 }
    }

    // MARK: Pool and accounting

    /// The segment whose header is `header` back to the allocator: the task holds it no more.
    static func returnToPool(_ chain: UnsafeMutablePointer<SegmentChain>, _ header: UInt32) {
        let bottom = SegmentHeader.bottom(header)
        let bytes = header &+ SegmentHeader.bytes &- bottom
        measureSlack(chain, segmentBottom: bottom)
        pool.free(bottom, bytes: bytes, task: chains.unsafelyUnwrapped.distance(to: chain))
        chain.pointee.heldBytes &-= bytes
        chain.pointee.segments &-= 1
    }

    /// Every segment kept above `header` back to the allocator (the task keeps none there
    /// any more); true when there was one.
    @discardableResult @inline(never)
    static func returnKept(_ chain: UnsafeMutablePointer<SegmentChain>, above header: UInt32) -> Bool {
        var kept = SegmentHeader.next(header)
        guard kept != 0 else { return false }
        Memory.storeWord(header &+ SegmentHeader.nextOffset, 0)
        while kept != 0 {
            let above = SegmentHeader.next(kept)
            returnToPool(chain, kept)
            kept = above
        }
        return true
    }

    /// Gives back what every task keeps above its segment in use (when a request would
    /// otherwise fail); true when there was something.
    static func returnKeptToPool() -> Bool {
        var any = false
        for index in 0..<(scheduler.taskCount &- 1) {
            let chain = chains.unsafelyUnwrapped + index
            if chain.pointee.maximumBytes != 0 && chain.pointee.current != 0 && returnKept(chain, above: chain.pointee.current) {
                any = true
            }
        }
        return any
    }

    /// Bytes of the segments kept above the one in use. (Not inlined: the shutdown report's
    /// frame sits under its console writes, which run in a T6 task's slack.)
    @inline(never)
    static func keptBytes(_ chain: UnsafeMutablePointer<SegmentChain>) -> UInt32 {
        guard chain.pointee.current != 0 else { return 0 }
        var bytes: UInt32 = 0
        var kept = SegmentHeader.next(chain.pointee.current)
        while kept != 0 {
            bytes &+= kept &+ SegmentHeader.bytes &- SegmentHeader.bottom(kept)
            kept = SegmentHeader.next(kept)
        }
        return bytes
    }

    static func roundUpToGranule(_ bytes: UInt32) -> UInt32 {
        (bytes &+ SegmentPool.granuleBytes &- 1) & ~(SegmentPool.granuleBytes &- 1)
    }

    /// Paints the slack of the segment whose lowest address is `bottom` (above its guard).
    static func paintSlack(segmentBottom bottom: UInt32) { paintSlack(from: bottom &+ SegmentGuard.bytes) }

    /// Paints the slack that starts at `start` (a fixed stack's bottom, or a segment's above its guard).
    static func paintSlack(from start: UInt32) {
        Memory.fillWords(from: start, to: start &+ slackBytes, with: stackPaintWord)
    }

    static func measureSlack(_ chain: UnsafeMutablePointer<SegmentChain>, segmentBottom bottom: UInt32) {
        measureSlack(chain, from: bottom &+ SegmentGuard.bytes)
    }

    /// How far below the limit the slack that starts at `start` was ever written, from its paint.
    static func measureSlack(_ chain: UnsafeMutablePointer<SegmentChain>, from start: UInt32) {
        var address = start
        let limit = start &+ slackBytes
        while address < limit && Memory.loadWord(address) == stackPaintWord { address &+= 4 }
        let used = limit &- address
        if used > chain.pointee.slackPeak { chain.pointee.slackPeak = used }
    }
}

extension SegmentHeader {
    static func next(_ header: UInt32) -> UInt32 { Memory.loadWord(header &+ nextOffset) }
    static func limit(_ header: UInt32) -> UInt32 { Memory.loadWord(header &+ limitOffset) }
    static func bottom(_ header: UInt32) -> UInt32 { Memory.loadWord(header &+ bottomOffset) }

    /// Sets the segment's bottom, and what follows from it: its limit, and the room a
    /// function has on it (a first segment, whose header is in its chain and has no
    /// previous, has none to give). A segment's `previous` is set before its bottom.
    static func setBottom(_ header: UInt32, _ bottom: UInt32) {
        Memory.storeWord(header &+ bottomOffset, bottom)
        Memory.storeWord(header &+ limitOffset, bottom &+ SegmentGuard.bytes &+ segmentSlackWord)
        let isFirst = Memory.loadWord(header &+ previousOffset) == 0
        Memory.storeWord(header &+ roomOffset, isFirst ? 0 : header &+ bytes &- bottom &- segmentFitWord)
    }
}

@_cdecl("keel_segment_grow")
func segmentGrow(_ frameBytes: UInt32, _ argumentBytes: UInt32, _ oldStackPointer: UInt32) -> UInt32 {
    SegmentedStacks.grow(frameBytes: frameBytes, argumentBytes: argumentBytes, oldStackPointer: oldStackPointer)
}

#endif
