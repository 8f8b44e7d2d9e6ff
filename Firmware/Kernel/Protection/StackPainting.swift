// Stack painting: fill a stack with a known word so its high-water mark can be read later.
//
// Not a detector (it catches nothing by itself), but it shares the detector interface
// because it prepares the stack the same way, and every other technique's tests use it.

enum StackPainting: StackDetector {
    static var technique: Technique { .none }

    static func prepare(_ task: TaskPointer) {
        #if KEEL_SEGMENT_GUARD
        // The whole stack, the segment guard's band included (a host reading the stack sees one
        // paint from the bottom up): with the MPU off, since the guard may be on this very
        // stack now (a restart from the fault path).
        MPU.withProtectionOff { Memory.fillWords(from: task.pointee.stackBottom, to: task.pointee.stackTop, with: stackPaintWord) }
        #else
        Memory.fillWords(from: task.pointee.stackBottom, to: task.pointee.stackTop, with: stackPaintWord)
        #endif
    }

    static func hasOverflowed(_ task: TaskPointer) -> Bool { false }

    /// Bytes of the stack that have ever been written: the stack size minus the untouched
    /// paint at the bottom. Exact to the word; a pushed value equal to the paint word at the
    /// very edge of the used region can hide one word, as in every painting scheme.
    static func highWaterMark(_ task: TaskPointer) -> UInt32 {
        var address = SegmentGuard.paintedBottom(task)
        let top = task.pointee.stackTop
        while address < top && Memory.loadWord(address) == stackPaintWord {
            address &+= 4
        }
        return top &- address
    }
}
