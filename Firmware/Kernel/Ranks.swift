// Ranks: which task holds which bit of the scheduler's masks, and how a priority change at
// run time moves the bits.
//
// Every task mask (ready, sleeping, live, proxies, hadTurn, a round-robin group, each
// object's waiters) gives a task one bit, and the lowest set bit is the most urgent task of
// the mask: that is what makes picking and waking O(1). The bit is the task's *rank*, not
// its index in the table: `keel build` sorts the table by priority, so at start rank and
// index agree, but a priority change (`TaskHandle.setPriority`) moves the task to the end of
// its new priority's group, and every task between its old and new rank moves one bit.
// The task's index, which handles, mutex holders, histories and fault records use, never
// changes. So the hot paths pay nothing for run-time priorities: `Scheduler.task(lowestBitOf:)`
// is one load from the rank table (indexed from the scheduler's base on ARMv7-M/v8-M, by the
// de Bruijn window on ARMv6-M) where it loaded the table's base and added the index: an
// instruction fewer than before. The change itself, rare, rewrites every mask in O(tasks)
// with interrupts masked.
//
// Which masks hold a task's bit is known without a list of objects: a task is in at most one
// waiters mask, the one its `waitingOn` points to (Waiting.swift keeps that exact), and the
// scheduler's own masks are in `SchedulerState`.

#if KEEL_ARMV6M
/// The task of each bit, as the address of its control block, by the bit's de Bruijn window
/// (`(bit * 0x077CB531) >> 27`, distinct for each of the 32 bits): ARMv6-M has neither CLZ
/// nor RBIT, so the multiply finds the lowest bit and this table its task in one load.
/// (Addresses, not indices or offsets: no add of the table's base after the load; and LLVM
/// does not recognise the pattern and turn it back into `trailingZeroBitCount`'s test and
/// branches.) In RAM: a priority change rewrites it. A top-level global of literal zeros, so
/// it is plain .bss.
nonisolated(unsafe) var taskByWindow: InlineArray<32, UInt32> = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]
#endif

enum Ranks {
    #if KEEL_ARMV6M
    @inline(__always)
    static func window(_ isolatedBit: UInt32) -> Int { Int(truncatingIfNeeded: (isolatedBit &* 0x077C_B531) &>> 27) }
    #endif
    // Elsewhere the table is `SchedulerState.taskByBit` (entry n: the task of rank n).

    /// The task of the lowest set bit of `mask`, which is not zero.
    @inline(__always)
    static func task(lowestBitOf mask: UInt32) -> TaskPointer {
        #if KEEL_ARMV6M
        let address = taskByWindow[window(mask & (0 &- mask))]
        return UnsafeMutablePointer(bitPattern: UInt(address)).unsafelyUnwrapped
        #else
        // RBIT and CLZ, then one load; the index needs no bounds check (a zero mask is excluded).
        let address = withUnsafeMutablePointer(to: &scheduler.taskByBit) {
            UnsafeMutableRawPointer($0).load(fromByteOffset: mask.trailingZeroBitCount &<< 2, as: UInt32.self)
        }
        return UnsafeMutablePointer(bitPattern: UInt(address)).unsafelyUnwrapped
        #endif
    }

    /// Gives `task` the bit `bit` in its control block and in the rank table.
    static func assign(_ bit: UInt32, to task: TaskPointer) {
        task.pointee.bit = bit
        #if KEEL_ARMV6M
        taskByWindow[window(bit)] = UInt32(truncatingIfNeeded: UInt(bitPattern: task))
        #else
        scheduler.taskByBit[bit.trailingZeroBitCount] = UInt32(truncatingIfNeeded: UInt(bitPattern: task))
        #endif
    }

    /// At start: rank = index (the table is sorted most urgent first), and each task's
    /// round-robin group.
    static func assignInTableOrder() {
        for index in 0..<scheduler.taskCount { assign(1 &<< UInt32(index), to: Scheduler.task(index)) }
        updatePeers()
    }

    /// Every task's round-robin group: the bits of the tasks of its priority; and its turn
    /// bit, none for a task alone at its priority (the pick records no turn for it: Scheduler.swift).
    static func updatePeers() {
        for index in 0..<scheduler.taskCount {
            let task = Scheduler.task(index)
            var peers: UInt32 = 0
            for other in 0..<scheduler.taskCount where Scheduler.task(other).pointee.priority == task.pointee.priority {
                peers |= Scheduler.task(other).pointee.bit
            }
            task.pointee.peers = peers
            task.pointee.turnBit = peers == task.pointee.bit ? 0 : task.pointee.bit
            scheduler.hadTurn &= task.pointee.turnBit | ~task.pointee.bit  // a solo task keeps no turn
        }
    }

    /// Gives `task` (not idle) the priority `priority` and the last rank of that priority's
    /// group, moving the tasks ranked between one bit, in every mask. Interrupts are masked by
    /// the caller; a switch is requested (PendSV picks with the new ranks when the mask is
    /// restored, or on exception return).
    static func move(_ task: TaskPointer, toPriority priority: UInt8) {
        let count = scheduler.taskCount
        // Its new rank: after every other task at least as urgent (idle, at 0, never is).
        var newRank: UInt32 = 0
        for index in 0..<count where Scheduler.task(index) != task && Scheduler.task(index).pointee.priority >= priority {
            newRank &+= 1
        }
        let rank = RankMove(from: UInt32(truncatingIfNeeded: task.pointee.bit.trailingZeroBitCount), to: newRank)
        scheduler.ready = rank.moved(scheduler.ready)
        scheduler.sleeping = rank.moved(scheduler.sleeping)
        scheduler.live = rank.moved(scheduler.live)
        scheduler.proxies = rank.moved(scheduler.proxies)
        // The moved task joins its new group as one that has not had its turn yet.
        scheduler.hadTurn = rank.moved(scheduler.hadTurn & ~task.pointee.bit)
        // The objects' waiters masks: only the waiting tasks' own bits are in them. All old
        // bits leave before any new one is set, as two tasks may share a mask.
        for index in 0..<count {
            let other = Scheduler.task(index)
            if let waiters = other.pointee.waitingOn { waiters.pointee &= ~other.pointee.bit }
        }
        for index in 0..<count {
            let other = Scheduler.task(index)
            if let waiters = other.pointee.waitingOn { waiters.pointee |= rank.moved(other.pointee.bit) }
        }
        task.pointee.priority = priority
        for index in 0..<count {
            let other = Scheduler.task(index)
            assign(rank.moved(other.pointee.bit), to: other)
        }
        updatePeers()
        Processor.pendContextSwitch()
    }
}

/// One task going from rank `from` to rank `to`: the ranks between slide one place towards
/// `from`, the rest stay. As a rewrite of a mask: a few shifts, no table.
struct RankMove {
    let from: UInt32, to: UInt32

    func moved(_ mask: UInt32) -> UInt32 {
        let low = min(from, to), high = max(from, to)
        // The bits low...high (a slice of the mask); the ones outside it stay where they are.
        let slice: UInt32 = high == 31 ? ~0 &<< low : ((1 &<< (high &+ 1)) &- 1) & (~0 &<< low)
        let movedBit: UInt32 = mask & (1 &<< from) != 0 ? 1 &<< to : 0
        let others = mask & slice & ~(1 &<< from)
        let slid = from < to ? others &>> 1 : others &<< 1
        return (mask & ~slice) | slid | movedBit
    }
}
