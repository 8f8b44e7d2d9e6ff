// Stack evidence: the faulting task's stack words, printed just before its fault record.
//
// The host (`keel run`) walks these words into a backtrace with the frame size of every
// function, which it knows from the image (`.stack_sizes`, and the analysis of assembly):
// from the stacked PC, or, when the hardware could not push the exception frame, from the
// return addresses it finds. The words must be read before the policy repaints or restarts
// the stack, so `Faults.report` calls this first.
//
// Bounded: at most `maximumWords` words from SP up, inside the task's stack; the line is at
// most 60 + 24 (name) + 9 × 64 = 660 bytes (about 57 ms at 115200 baud), and the console sends
// it in 95-byte pieces, each with interrupts masked only for its own UART write.

enum StackEvidence {
    /// 256 bytes: the exception frame and the frames of a few calls above it.
    static let maximumWords: UInt32 = 64

    /// Prints `keel:stack-words task=NAME sp=… from=… words=w0,w1,…` (hex, lowest address
    /// first) for a task's fault that has a stack pointer; nothing for a victim (its stack
    /// holds another task's overflow, not its own calls) or a fault with no SP.
    static func report(_ fault: FaultReport) {
        guard let task = fault.task, fault.sp != 0, fault.kind != .stackOverwritten else { return }
        let bottom = task.pointee.stackBottom, top = task.pointee.stackTop
        // An SP below the stack after an overflow that wrote nothing there (the MPU or the limit
        // refused it, and QEMU moves SP even when the push failed) points at nothing the task
        // wrote: its deepest frames are at the bottom. One that did write below (found after the
        // fact, T4 and T5) left its deepest frames from SP up. An SP elsewhere is a segment
        // from the pool: its words are read as they are.
        var start = fault.sp & ~3
        if start < bottom && (fault.duringStacking || (fault.kind == .stackOverflow && fault.outsideBytes == 0)) {
            start = bottom
        }
        var end = start &+ maximumWords &* 4
        if start >= bottom && start < top && end > top { end = top }
        guard start < end, MemoryMap.isRAM(start, bytes: end &- start) else { return }
        Console.write("keel:stack-words task=")
        Console.write(task.pointee.name)
        // Every number in hex without "0x", the words' own digits.
        Console.write(" sp=")
        writeHexDigits(fault.sp)
        Console.write(" from=")
        writeHexDigits(start)
        Console.write(" words=")
        var address = start
        while address < end {
            if address != start { Console.put(UInt8(ascii: ",")) }
            writeHexDigits(word(at: address))
            address &+= 4
        }
        Console.write("\n")
    }

    /// One stack word, read with the MPU off: a T2 image keeps stacks out of reach of the
    /// kernel's reads too. Word by word, so that the MPU switch and the console's writes are
    /// not nested: the fault path's depth on the handler stack stays as it was.
    @inline(never)
    private static func word(at address: UInt32) -> UInt32 {
        MPU.withProtectionOff { Memory.loadWord(address) }
    }

    /// Eight hex digits, no "0x" (`Console.write(hexDigits:)`, inlined once here): the line
    /// carries 64 of them. Out of line, like `word(at:)`.
    @inline(never)
    private static func writeHexDigits(_ value: UInt32) {
        Console.write(hexDigits: value)
    }
}
