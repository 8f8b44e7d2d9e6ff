// The record of a lock refused with `.deadlock`: kept by the lock, printed on the handler stack.
//
// `Mutex.lock` finds the cycle with interrupts masked and copies it here (task and mutex
// indices, a few bytes, no allocation); the next tick prints it as one `keel:deadlock` line
// (and the idle task or the shutdown report do, without a tick). Printing in the lock itself
// would run below the caller's stack limit: kernel code has no split-stack check, so a
// segmented or T6 task would have to keep the record's ~200 bytes of calls in its slack.
// Until it is printed, a second refusal is only counted (`dropped=` in the record).

/// Room for a cycle: 64 bytes where the image has mutexes, none to speak of where it has not
/// (on the micro:bit every byte of bss is a byte less of heap).
#if KEEL_MUTEXES
typealias RefusedCycleMembers = InlineArray<64, UInt8>
#else
typealias RefusedCycleMembers = InlineArray<2, UInt8>
#endif

enum RefusedCycle {
    /// Task index, mutex index, task index, mutex index, ...: each mutex held by the next
    /// task, the last one by the first (the task whose lock was refused).
    nonisolated(unsafe) static var members = RefusedCycleMembers(repeating: 0)
    nonisolated(unsafe) static var count = 0
    /// Refusals while one waited to be printed (not recorded).
    nonisolated(unsafe) static var dropped: UInt32 = 0

    /// With interrupts masked, in `lock`: the caller was refused `mutex`. Walks the chain as
    /// `Mutexes.closesCycle` did (at most one hop per task).
    static func keep(caller: TaskPointer, mutex: UnsafeMutablePointer<UInt32>) {
        guard count == 0 else { dropped &+= 1; return }
        var count = 0, tableCount = 0
        guard let table = applicationMutexTable(&tableCount) else { return }
        let first = table.assumingMemoryBound(to: UInt32.self)
        var task = caller
        var waited = mutex
        while count &+ 2 <= members.count {
            members[count] = task.pointee.index
            members[count &+ 1] = UInt8(truncatingIfNeeded: (waited - first) / 2)
            count &+= 2
            let holder = Scheduler.task(Int(waited[1] & 0xFF) &- 1)
            if holder == caller { break }
            guard let hop = Mutexes.nextInChain(after: holder) else { break }
            task = holder
            waited = hop.mutex
        }
        self.count = count
    }

    /// Prints the kept cycle, if there is one: `keel:deadlock cycle=right,first,left,second`
    /// reads "right would wait for first, held by left, which waits for second, held by
    /// right". From the tick, the idle task or the shutdown report.
    /// Inlined where it is called (the tick among them): the common case is one load and no call.
    @inline(__always)
    static func printIfKept() {
        if count != 0 { printKept() }
    }

    @inline(never)
    private static func printKept() {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        guard count != 0 else { return }  // a tick printed it meanwhile
        var names = 0
        let list = applicationMutexNames(&names)
        Console.write("keel:deadlock cycle=")
        for position in 0..<count {
            if position != 0 { Console.write(",") }
            let index = Int(members[position])
            if position & 1 == 0 {
                Console.write(Scheduler.task(index).pointee.name)
            } else if let list {
                writeWord(index, of: list, count: names)
            }
        }
        if dropped != 0 {
            Console.write(" dropped=")
            Console.write(decimal: dropped)
        }
        Console.write("\n")
        count = 0
        dropped = 0
    }

    /// The name of `mutex`, one of the application's (the whole-system deadlock report too).
    static func writeName(of mutex: UnsafeMutablePointer<UInt32>) {
        var count = 0, names = 0
        guard let table = applicationMutexTable(&count), let list = applicationMutexNames(&names) else { return }
        writeWord((mutex - table.assumingMemoryBound(to: UInt32.self)) / 2, of: list, count: names)
    }

    /// Word `index` of the space-separated `list`.
    static func writeWord(_ index: Int, of list: UnsafePointer<UInt8>, count: Int) {
        var word = 0
        for offset in 0..<count {
            if list[offset] == UInt8(ascii: " ") { word &+= 1; continue }
            if word == index { Console.put(list[offset]) }
        }
    }
}

/// The mutexes' names, one space between two, in the table's order (generated).
@_extern(c, "keel_mutex_names")
func applicationMutexNames(_ count: UnsafeMutablePointer<Int>) -> UnsafePointer<UInt8>?
