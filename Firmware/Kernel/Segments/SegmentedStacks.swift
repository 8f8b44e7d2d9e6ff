// Segmented stacks: what `__morestack` (Port/armv6m/MoreStack.S) asks the kernel for.
//
// Every function of task code starts with LLVM's split-stack prologue: it compares SP (minus
// its frame, for frames of 256 bytes and more) with the word `__STACK_LIMIT` and calls
// `__morestack` when there is too little room. `__morestack` masks interrupts and calls
// `keel_segment_grow`, which either grows the segment in use down in place (the function
// then runs right there) or hands it a new segment; in that case, when the function
// returns, it calls `keel_segment_release`, which takes the segment back and says where the
// old stack was. Taking and giving back the task's spare segment is done in `__morestack`
// itself, without calling here (the fast path).
//
// Which bytes a segment gets is the application's allocator's choice (SegmentAllocator.swift).
//
// The limit word belongs to the running task: the port loads it from the task's context at
// every switch-in (`SavedContext.splitLimit`), and grow and release change both. It lies
// `slackBytes` above the segment's bottom (plus the guard's bytes on the M3), because a frame
// under 256 bytes is compared by SP alone and code without the prologue (leaves, the kernel,
// `__morestack` itself, an exception frame) runs below it. On the M33 PSPLIM holds the
// segment's true bottom: code that runs off the slack faults in hardware (STKOF) instead of
// writing below it. On the M3 an MPU region over the segment's lowest 32 bytes does the same
// for any access (SegmentGuard.swift).
//
// A segment's top 16 bytes are its header: the previous segment, the SP to go back to, its
// bottom and size. The chain of a task runs from the current segment back to its first
// segment (the stack the layout planner placed), which is never released.
//
// No hot split: when the bytes just below the segment in use are free, it grows down into
// them (`growInPlace`), so a loop calling a function across the boundary grows once and
// never calls `__morestack` again; the layout puts the first segmented task's first segment
// on the pool for that. Otherwise a released segment stays with its task as a spare, so such
// a loop takes the spare every time and never touches the pool. A task holds at most one
// spare; spares go back to the pool when another task's request would otherwise fail, and
// when the task stops; a growth goes back when the task waits (`trimFirstSegment`).
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

/// The word the split-stack prologue compares SP with: the running task's segment limit.
@_silgen_name("__STACK_LIMIT")
nonisolated(unsafe) var stackLimitWord: UInt32 = 0

// What `__morestack`'s fast path (Port/armv6m/MoreStack.S) reads, under C names: the running
// task's chain (an address), the slack below every limit, and what a segment holds besides a
// function's frame and stack arguments (its header, 4 bytes of alignment and the slack).
/// The running task's chain (an address), kept at every switch-in (`runningTaskChanged`).
@_silgen_name("keel_running_chain")
nonisolated(unsafe) var runningChainAddress: UInt32 = 0
@_silgen_name("keel_segment_slack")
nonisolated(unsafe) var segmentSlackWord: UInt32 = 384
@_silgen_name("keel_segment_fit")
nonisolated(unsafe) var segmentFitWord: UInt32 = 0

/// A segment's header, in its top 16 bytes.
struct SegmentHeader {
    /// Header address of the segment below in the chain; 0 when that is the first segment.
    var previous: UInt32
    /// SP of the old segment when `__morestack` left it.
    var returnStackPointer: UInt32
    var bottom: UInt32
    var bytes: UInt32
}

/// One task's segments and what they cost; all zero for a task on a fixed stack.
@_spi(Build) public struct SegmentChain {
    /// 0: the task's stack is fixed (not segmented).
    var maximumBytes: UInt32 = 0
    /// Bytes of each further segment (more when one frame needs more).
    var segmentBytes: UInt32 = 0
    /// Header address of the segment in use; 0 while the task runs on its first segment.
    var current: UInt32 = 0
    /// Header address of a released segment kept for the next split; 0 when there is none.
    var spare: UInt32 = 0
    var heldBytes: UInt32 = 0
    var peakBytes: UInt32 = 0
    /// Segments in use, the first included.
    var segments: UInt32 = 1
    var peakSegments: UInt32 = 1
    /// Calls to `__morestack` that got a segment.
    var splits: UInt32 = 0
    /// Segments taken from the pool (a split served by the spare takes none).
    var poolAllocations: UInt32 = 0
    /// Deepest use of the slack below a limit seen so far, in bytes (read from paint).
    var slackPeak: UInt32 = 0
    /// Bytes the refused function asked for (frame plus stack arguments).
    var refusedBytes: UInt32 = 0
    /// Where the refused function was called from, and its SP then.
    var refusedReturnAddress: UInt32 = 0
    var refusedStackPointer: UInt32 = 0
    /// Lowest address of the first segment: its bottom, or lower once it grew down in place
    /// into the free pool below it (`grow`); 0 for a fixed stack.
    var firstBottom: UInt32 = 0
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
    /// The task whose request was refused, until PendSV has applied its policy.
    nonisolated(unsafe) static var refusedTask: TaskPointer? = nil
    /// Ticks that interrupted a task inside `__morestack` (the interrupt test reads this).
    nonisolated(unsafe) static var ticksInsideMoreStack: UInt32 = 0

    static let headerBytes: UInt32 = 16

    /// Called by the generated start-up code before `Kernel.start`.
    /// `sizes`: per task, its `max` and its segment size (both 0 for a fixed stack).
    @_spi(Build) public static func configure(chains: UnsafeMutablePointer<SegmentChain>, sizes: UnsafeBufferPointer<UInt32>,
                          poolStart: UInt32, poolBytes: UInt32, slackBytes: UInt32) {
        checkFastPathLayout()
        self.chains = chains
        segmentSlackWord = slackBytes
        segmentFitWord = headerBytes &+ 4 &+ SegmentGuard.bytes &+ slackBytes
        for index in 0..<(sizes.count / 2) {
            chains[index] = SegmentChain()
            chains[index].maximumBytes = sizes[2 &* index]
            chains[index].segmentBytes = sizes[2 &* index &+ 1]
        }
        pool.configure(start: poolStart, bytes: poolBytes)
    }

    /// The offsets `__morestack`'s fast path uses (its `.equ` lines) against the compiler's:
    /// folded away when they agree, a trap at boot when a field moved and MoreStack.S was not
    /// updated.
    static func checkFastPathLayout() {
        typealias C = SegmentChain
        typealias T = TaskControlBlock
        let agrees = MemoryLayout<C>.offset(of: \C.current) == 8 && MemoryLayout<C>.offset(of: \C.spare) == 12
            && MemoryLayout<C>.offset(of: \C.heldBytes) == 16 && MemoryLayout<C>.offset(of: \C.segments) == 24
            && MemoryLayout<C>.offset(of: \C.splits) == 32 && MemoryLayout<C>.offset(of: \C.firstBottom) == 56
            && MemoryLayout<T>.offset(of: \T.context.stackLimit) == 36 && MemoryLayout<T>.offset(of: \T.context.splitLimit) == 56
            && MemoryLayout<T>.offset(of: \T.context.switchRegions.base0) == 40
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

    /// One field of the running task's chain, read with a volatile load. `__morestack` changes
    /// the chain behind the compiler's back: to the task's code a call that split wrote
    /// nothing, so a plain load before it could be reused after it.
    @inline(__always)
    static func observe(_ field: (UnsafeMutablePointer<SegmentChain>) -> UnsafeMutableRawPointer) -> UInt32 {
        Register(address: UInt(bitPattern: field(chain(currentTask.unsafelyUnwrapped)))).read()
    }

    /// Points the task's limits at the segment whose lowest address is `bottom`: the
    /// prologue's limit above the guard and the slack, PSPLIM (M33) and the MPU guard (M3)
    /// at the bottom itself.
    @inline(__always)
    static func setLimits(_ task: TaskPointer, segmentBottom bottom: UInt32) {
        let limit = bottom &+ SegmentGuard.bytes &+ slackBytes
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
        if chain.pointee.maximumBytes == 0 { resetFixed(task, chain) } else { resetSegmented(task, chain) }
    }

    @inline(never)
    static func resetSegmented(_ task: TaskPointer, _ chain: UnsafeMutablePointer<SegmentChain>) {
        let interrupts = Interrupts.mask()
        var header = chain.pointee.current
        while header != 0 {
            let segment = SegmentHeader.at(header)
            returnToPool(chain, segment)
            header = segment.previous
        }
        if chain.pointee.spare != 0 { returnToPool(chain, SegmentHeader.at(chain.pointee.spare)) }
        let first = chain.pointee.firstBottom
        if chain.pointee.slackPainted && first != 0 { measureSlack(chain, segmentBottom: first) }
        if first != 0 && first < task.pointee.stackBottom { pool.shrink(first, bytes: task.pointee.stackBottom &- first, task: Int(task.pointee.index)) }
        chain.pointee.firstBottom = task.pointee.stackBottom
        chain.pointee.current = 0
        chain.pointee.spare = 0
        chain.pointee.segments = 1
        chain.pointee.heldBytes = task.pointee.stackBytes
        chain.pointee.peakBytes = max(chain.pointee.peakBytes, chain.pointee.heldBytes)
        setLimits(task, segmentBottom: task.pointee.stackBottom)  // first: the guard leaves the segment in use
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
        // Only the prologue's limit: PSPLIM on a fixed stack belongs to T1 (LimitRegister.swift).
        task.pointee.context.splitLimit = limit
        if task == currentTask { stackLimitWord = limit }
    }

    // MARK: Grow and release (called by __morestack with interrupts masked)

    /// Finds room for a function that needs `frameBytes` below its stack arguments
    /// (`argumentBytes`). First in place (`growInPlace`): when the allocator has the bytes just below the
    /// segment in use free, that segment grows down into them, the limits move down and grow
    /// returns 0, and `__morestack` runs the function right there: no new stack, no copy,
    /// and no way back through `__morestack`, so a loop that called across this boundary
    /// never splits again (the hot split's cure; the bytes go back when the task is switched
    /// out back above them, `trimFirstSegment`, or with the segment). Otherwise a segment:
    /// records where the old stack was, moves the limits and returns the new SP, with room
    /// for the stack arguments, which `__morestack` copies.
    static func grow(frameBytes: UInt32, argumentBytes: UInt32, oldStackPointer: UInt32) -> UInt32 {
        guard !Processor.isInHandlerMode else { handlerOverflow(oldStackPointer) }
        let task = currentTask.unsafelyUnwrapped
        let chain = self.chain(task)
        guard chain.pointee.maximumBytes != 0 else { refuse(task, .fixedStack, frameBytes &+ argumentBytes, oldStackPointer) }
        // Header, arguments (plus alignment), the frame, and the slack under the limit.
        let needed = roundUpToGranule(segmentFitWord &+ argumentBytes &+ frameBytes)
        var segment: SegmentHeader
        // The spare's header, read once (its links are rewritten below; bottom and size stay).
        let spare = chain.pointee.spare == 0 ? nil : SegmentHeader.at(chain.pointee.spare)
        if let spare, spare.bytes >= needed {
            segment = spare   // the hot path: no pool, no paint
            chain.pointee.spare = 0
        } else {
            if let spare {
                returnToPool(chain, spare)
                chain.pointee.spare = 0
            }
            let bytes = max(needed, chain.pointee.segmentBytes)
            guard chain.pointee.heldBytes &+ bytes <= chain.pointee.maximumBytes else {
                refuse(task, .maximum, frameBytes &+ argumentBytes, oldStackPointer)
            }
            let index = Int(task.pointee.index)
            var bottom = pool.allocate(bytes, task: index)
            if bottom == nil && returnSparesToPool() { bottom = pool.allocate(bytes, task: index) }
            guard let bottom else { refuse(task, .pool, frameBytes &+ argumentBytes, oldStackPointer) }
            segment = SegmentHeader(previous: 0, returnStackPointer: 0, bottom: bottom, bytes: bytes)
            chain.pointee.poolAllocations &+= 1
            paintSlack(segmentBottom: bottom)  // not under the guard: that is still on the segment in use
        }
        segment.previous = chain.pointee.current
        segment.returnStackPointer = oldStackPointer
        let header = segment.bottom &+ segment.bytes &- headerBytes
        SegmentHeader.store(segment, at: header)
        chain.pointee.current = header
        chain.pointee.heldBytes &+= segment.bytes
        chain.pointee.segments &+= 1
        chain.pointee.splits &+= 1
        if chain.pointee.heldBytes > chain.pointee.peakBytes { chain.pointee.peakBytes = chain.pointee.heldBytes }
        if chain.pointee.segments > chain.pointee.peakSegments { chain.pointee.peakSegments = chain.pointee.segments }
        setLimits(task, segmentBottom: segment.bottom)
        // The arguments start 8-byte aligned below the header (`__morestack` loads r4 and r5
        // itself and enters the body past its pop).
        return (header &- argumentBytes) & ~7
    }

    /// The in-place growth of `grow`: true when the segment in use now reaches far enough
    /// down for the function (its frame and the slack below the new limit, from the SP it
    /// was called with).
    /// (Called by `keel_segment_grow` before `grow`, not from it: this path then runs on the
    /// slack without grow's frame under it.)
    static func growInPlace(frameBytes: UInt32, oldStackPointer: UInt32) -> Bool {
        guard !Processor.isInHandlerMode else { return false }
        let task = currentTask.unsafelyUnwrapped
        let chain = self.chain(task)
        let header = chain.pointee.current
        let bottom = header == 0 ? chain.pointee.firstBottom : SegmentHeader.at(header).bottom
        let below = frameBytes &+ slackBytes &+ SegmentGuard.bytes
        let wanted = (oldStackPointer &- below) & ~(SegmentPool.granuleBytes &- 1)
        guard wanted < bottom, oldStackPointer > below else { return false }
        let bytes = bottom &- wanted
        guard chain.pointee.heldBytes &+ bytes <= chain.pointee.maximumBytes,
              pool.claim(wanted, bytes: bytes, task: Int(task.pointee.index)) else { return false }
        if header == 0 {
            chain.pointee.firstBottom = wanted
        } else {
            var segment = SegmentHeader.at(header)  // the header stays at the top; the segment reaches lower
            segment.bottom = wanted
            segment.bytes &+= bytes
            SegmentHeader.store(segment, at: header)
        }
        chain.pointee.heldBytes &+= bytes
        if chain.pointee.heldBytes > chain.pointee.peakBytes { chain.pointee.peakBytes = chain.pointee.heldBytes }
        chain.pointee.splits &+= 1
        chain.pointee.poolAllocations &+= 1
        measureSlack(chain, segmentBottom: bottom)
        setLimits(task, segmentBottom: wanted)  // first: the guard moves down off the old bottom
        // The new slack's paint stops short of this very code, which runs on the task's stack
        // a little below the SP it was called with (that is, possibly inside the new slack).
        let slack = wanted &+ SegmentGuard.bytes
        Memory.fillWords(from: slack, to: min(slack &+ slackBytes, (portProcessStack() &- 64) & ~3), with: stackPaintWord)
        return true
    }

    /// When a task that waits (sleeps or blocks) is switched out: if its first segment grew
    /// down in place, the part of that growth below its saved SP and the slack under it goes
    /// back to the pool (all of it once the task is back within its own first segment). A
    /// task preempted in a loop keeps it, so a loop across the old boundary does not pay for
    /// it again at every tick; another task's request does not take it back (that would put
    /// this walk inside `grow`, whose whole tree must fit the slack).
    /// `stackPointer`: the lowest the task's stack is in use (its saved SP when it is switched
    /// out; below the caller's own frames when it asks, `Keel.returnStackGrowth`).
    static func trimFirstSegment(_ task: TaskPointer, stackPointer: UInt32) {
        let chain = self.chain(task)
        let first = chain.pointee.firstBottom
        let bottom = task.pointee.stackBottom
        guard first != 0 && first < bottom && chain.pointee.current == 0 else { return }
        // Everything below that SP is free; keep the slack under it.
        let keep = (stackPointer &- slackBytes &- SegmentGuard.bytes) & ~(SegmentPool.granuleBytes &- 1)
        let newFirst = min(keep, bottom)
        guard newFirst > first else { return }
        measureSlack(chain, segmentBottom: first)
        setLimits(task, segmentBottom: newFirst)  // first: the guard leaves the bytes going back
        pool.shrink(first, bytes: newFirst &- first, task: Int(task.pointee.index))
        chain.pointee.heldBytes &-= newFirst &- first
        chain.pointee.firstBottom = newFirst
        paintSlack(segmentBottom: newFirst)
    }

    /// The function that split has returned: its segment becomes the spare (or goes back to
    /// the pool when there is one already), the limits move back, and the old SP is returned.
    static func release() -> UInt32 {
        let task = currentTask.unsafelyUnwrapped
        let chain = self.chain(task)
        let header = chain.pointee.current
        let segment = SegmentHeader.at(header)
        chain.pointee.current = segment.previous
        chain.pointee.heldBytes &-= segment.bytes
        chain.pointee.segments &-= 1
        if chain.pointee.spare == 0 {
            chain.pointee.spare = header
        } else {
            returnToPool(chain, segment)
        }
        let below = segment.previous == 0 ? chain.pointee.firstBottom : SegmentHeader.at(segment.previous).bottom
        setLimits(task, segmentBottom: below)
        return segment.returnStackPointer
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
        Interrupts.restore(0)  // PendSV runs now and never comes back to this task's request
        while true { Processor.waitForInterrupt() }
    }

    /// PendSV's switch-out check: applies the policy of a task whose request was refused.
    @inline(never)
    static func stopRefusedTask(_ task: TaskPointer) {
        guard refusedTask == task else { return }
        refusedTask = nil
        let chain = self.chain(task)
        let reason = Refusal(rawValue: chain.pointee.refusal) ?? .none
        if reason == .heap {
            chain.pointee.refusal = 0
            Faults.report(FaultReport(task: task, kind: .outOfMemory, technique: .none, pc: 0, sp: 0,
                                      limit: chain.pointee.refusedBytes), action: "kill")
            FaultPolicy.kill(task, from: .contextSwitch)
            return
        }
        if reason == .fixedStack {
            // An overflow of a fixed stack, not a segment request: no pool line.
            chain.pointee.refusal = 0
            let prologueCheck = task.pointee.protections.contains(.prologueCheck)
            FaultPolicy.apply(FaultReport(task: task, kind: .stackOverflow, technique: prologueCheck ? .prologueCheck : .splitStack,
                                          pc: chain.pointee.refusedReturnAddress, sp: chain.pointee.refusedStackPointer,
                                          limit: task.pointee.context.splitLimit),
                              to: task, from: .contextSwitch)
            return
        }
        // The pool counts its own refusals; one at a task's `max` is counted here, in
        // PendSV, not in grow, whose tree runs in the slack.
        if reason != .pool { pool.refusals &+= 1 }
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

    static func returnToPool(_ chain: UnsafeMutablePointer<SegmentChain>, _ segment: SegmentHeader) {
        measureSlack(chain, segmentBottom: segment.bottom)
        pool.free(segment.bottom, bytes: segment.bytes, task: chains.unsafelyUnwrapped.distance(to: chain))
    }

    /// Gives every task's spare back; true when there was one.
    static func returnSparesToPool() -> Bool {
        var any = false
        for index in 0..<(scheduler.taskCount &- 1) {
            let chain = chains.unsafelyUnwrapped + index

            if chain.pointee.spare != 0 {
                returnToPool(chain, SegmentHeader.at(chain.pointee.spare))
                chain.pointee.spare = 0
                any = true
            }
        }
        return any
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
    static func at(_ address: UInt32) -> SegmentHeader {
        SegmentHeader(previous: Memory.loadWord(address), returnStackPointer: Memory.loadWord(address &+ 4),
                      bottom: Memory.loadWord(address &+ 8), bytes: Memory.loadWord(address &+ 12))
    }

    static func store(_ header: SegmentHeader, at address: UInt32) {
        Memory.storeWord(address, header.previous)
        Memory.storeWord(address &+ 4, header.returnStackPointer)
        Memory.storeWord(address &+ 8, header.bottom)
        Memory.storeWord(address &+ 12, header.bytes)
    }
}

@_cdecl("keel_segment_grow")
func segmentGrow(_ frameBytes: UInt32, _ argumentBytes: UInt32, _ oldStackPointer: UInt32) -> UInt32 {
    if SegmentedStacks.growInPlace(frameBytes: frameBytes, oldStackPointer: oldStackPointer) { return 0 }
    return SegmentedStacks.grow(frameBytes: frameBytes, argumentBytes: argumentBytes, oldStackPointer: oldStackPointer)
}

@_cdecl("keel_segment_release")
func segmentRelease() -> UInt32 {
    SegmentedStacks.release()
}

#endif
