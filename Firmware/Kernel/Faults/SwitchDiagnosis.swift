// Diagnosis of a task stopped at a context switch, after the fact: an overflow a switch-out
// check found (T4 red zone, T5 SP check), or a split-stack request refused on a fixed stack.
//
// Runs in PendSV right after the task's context was saved: the exception frame at its saved SP
// was pushed on entry to this very exception (or the tick that tail-chained into it) and
// nothing has run on the task's stack since, so it is the task's own, wherever it lies; it is
// read when it lies in RAM the MPU let the task write. A saved SP below the stack is evidence
// whatever stopped the task: that frame was written below the stack (proven), and the bytes
// between it and the stack may have been (the task's own frames, a refused request's way out
// through `__morestack`), so the neighbours there are judged (Containment.swift).

extension Faults {
    /// `fault` with what the stopped `task` wrote below its stack, from its saved SP and, for
    /// T4, its red zone. A segmented task's SP lies in a segment, not below its first stack:
    /// its prologue refused before any write, so nothing is added for it.
    static func diagnosisAtSwitch(_ task: TaskPointer, _ fault: FaultReport) -> Diagnosis {
        var diagnosis = Diagnosis(fault: fault)
        MPUSnapshot.capture()
        let sp = task.pointee.context.stackPointer
        let bottom = task.pointee.stackBottom
        if diagnosis.fault.pc == 0 && MemoryMap.isRAM(sp, bytes: 32) && MPUSnapshot.permitsWrite(sp) {
            diagnosis.fault.pc = Memory.loadWord(sp &+ 24)
        }
        #if KEEL_SEGMENTED
        if SegmentedStacks.chain(task).pointee.maximumBytes != 0 { return diagnosis }
        #endif
        let top = task.pointee.guardBottom
        if sp < top {
            // SP below the stack: the frame at SP was written; up to the stack, maybe.
            diagnosis.written = WrittenRange(lowest: max(sp, MemoryMap.ramStart), top: top, provenLowest: sp,
                                             provenTop: min(sp &+ 32, top))
            diagnosis.fault.evidence = .stackPointer
            diagnosis.fault.sp = sp  // the lowest point, so the record's distances agree
        } else if fault.technique == .redZone && Memory.loadWord(bottom) != stackPaintWord {
            // The red zone's lowest word changed: the band was written down to the bottom, and
            // the word below it may have been (a frame that jumped the band is not seen at all).
            diagnosis.written = WrittenRange(lowest: bottom &- 4, top: bottom)
            diagnosis.fault.evidence = .redZone
        }
        if !diagnosis.written.isEmpty {
            diagnosis.fault.hit = MemoryMap.owner(of: diagnosis.written.lowest)
            diagnosis.fault.outsideBytes = diagnosis.writableBelow
        }
        return diagnosis
    }

    /// A switch-out check (T4, T5) found the outgoing task's stack overflowed. Out of line, so
    /// the switch path stays a leaf (no frame, no saved registers) when nothing is found.
    /// Compiled only with a switch-out detector: nothing else calls it.
    #if KEEL_SP_CHECK || KEEL_RED_ZONE
    @inline(never)
    static func overflowDetectedAtSwitch(_ task: TaskPointer, technique: Technique) {
        let fault = FaultReport(task: task, kind: .stackOverflow, technique: technique, pc: 0,
                                sp: task.pointee.context.stackPointer, limit: task.pointee.stackBottom)
        FaultResponse.respond(to: diagnosisAtSwitch(task, fault), from: .contextSwitch)
    }
    #endif
}
