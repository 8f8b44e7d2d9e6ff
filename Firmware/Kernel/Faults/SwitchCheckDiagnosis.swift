// Diagnosis of an overflow a switch-out check found (T4 red zone, T5 SP check): after the fact.
//
// Runs in PendSV right after the task's context was saved: the exception frame at its saved SP
// was pushed on entry to this very exception (or the tick that tail-chained into it) and
// nothing has run on the task's stack since, so it is the task's own, wherever it lies; it is
// read when it lies in RAM the MPU let the task write. What the overflow wrote below the stack
// is proven for that frame, and only possible for the bytes between it and the stack, which
// the task's own frames may or may not have touched.

extension Faults {
    /// Out of line, so the switch path stays a leaf (no frame, no saved registers) when
    /// nothing is found. Compiled only with a switch-out detector: nothing else calls it.
    #if KEEL_SP_CHECK || KEEL_RED_ZONE
    @inline(never)
    static func overflowDetectedAtSwitch(_ task: TaskPointer, technique: Technique) {
        let sp = task.pointee.context.stackPointer
        let bottom = task.pointee.stackBottom
        var diagnosis = Diagnosis(fault: FaultReport(task: task, kind: .stackOverflow, technique: technique, pc: 0, sp: sp, limit: bottom),
                                  mpu: MPUSnapshot.read())
        if MemoryMap.isRAM(sp, bytes: 32) && diagnosis.mpu.permitsWrite(sp) { diagnosis.fault.pc = Memory.loadWord(sp &+ 24) }
        let top = task.pointee.guardBottom
        if sp < top {
            // SP below the stack: the frame at SP was written; up to the stack, maybe.
            diagnosis.written = WrittenRange(lowest: sp, top: top, provenLowest: sp, provenTop: min(sp &+ 32, top))
            diagnosis.fault.evidence = .stackPointer
        } else if technique == .redZone && Memory.loadWord(bottom) != stackPaintWord {
            // The red zone's lowest word changed: the band was written down to the bottom, and
            // the word below it may have been (a frame that jumped the band is not seen at all).
            diagnosis.written = WrittenRange(lowest: bottom &- 4, top: bottom)
            diagnosis.fault.evidence = .redZone
        }
        if !diagnosis.written.isEmpty {
            diagnosis.fault.hit = MemoryMap.owner(of: diagnosis.written.lowest)
            diagnosis.fault.outsideBytes = MPUPermission.writableBytes(from: diagnosis.written.lowest, to: diagnosis.written.top,
                                                                       diagnosis.mpu.permitsWrite)
        }
        FaultResponse.respond(to: diagnosis, from: .contextSwitch)
    }
    #endif
}
