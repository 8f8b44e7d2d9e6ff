// Diagnosis: what happened, to whom, and what it wrote, from the hardware and the evidence.
//
// The fault handler (`keel_fault`, entered from the port's fault entry) and the switch-out
// checks (T4, T5) each state a `Diagnosis`: the running task's fault (the culprit is always
// the task that ran: SP inside another task's stack is the running task's overflow, never a
// fault of that stack's owner), which technique caught it, and the range below its stack
// that the overflow may have written with the part that is proven written. Nothing is decided
// or changed here; `FaultResponse` decides and acts. The MPU's regions are read here, before
// anything touches them: a write they refused wrote nothing.

/// A fault, stated: the report, and what the overflow wrote below the culprit's stack. The MPU
/// as it decided the culprit's writes is in `MPUSnapshot`, captured with it.
struct Diagnosis {
    var fault: FaultReport
    /// May-have-written and proven-written bytes below the culprit's stack (and its guard).
    var written = WrittenRange(lowest: 0, top: 0)
}

extension Diagnosis {
    /// Bytes of `written` a write could have reached: what the MPU refused is not counted
    /// (the record's `outside=`).
    var writableBelow: UInt32 {
        written.isEmpty ? 0 : MPUPermission.writableBytes(from: written.lowest, to: written.top, MPUSnapshot.permitsWrite)
    }
}

/// Called by the port's fault entry for HardFault, MemManage, BusFault and UsageFault.
/// Inputs: the stack the frame was pushed on, EXC_RETURN, the exception number.
/// Returns only when the response let the system go on (kill or restart of a task), with
/// the EXC_RETURN to leave with: the task's frame is abandoned (it was stopped, or restarted
/// on a fresh basic frame), so the return says "basic frame" even when the fault came from an
/// extended one. (The ARMv6-M port ignores it: it has no FP.)
/// Never reads memory outside RAM: on the M0 a read there would fault inside HardFault,
/// which locks the core up.
@_cdecl("keel_fault")
func faultHandler(_ frame: UInt32, _ exceptionReturn: UInt32, _ exception: UInt32) -> UInt32 {
    #if KEEL_FPU
    let faultFrame = frame
    var frame = frame
    // Where the lazily reserved FP state was to go, read before the fault path may use the FPU.
    let lazyStateAddress = FloatingPoint.contextAddress.read()
    #endif
    #if KEEL_FPU
    // Before anything may execute an FP instruction: a lazy frame reserved on the faulting
    // stack is never to be written (it may lie in the guard the overflow reached).
    FloatingPoint.abandonLazyState()
    #endif
    let abandonedFrameReturn = exceptionReturn | 0x10
    if Faults.handling { Faults.faultInFaultPath(frame: frame, exception: exception) }
    Faults.handling = true
    var registers = FaultRegisters()
    #if !KEEL_ARMV6M
    registers.status = SystemControl.configurableFaultStatus.read()
    registers.hardFaultStatus = SystemControl.hardFaultStatus.read()
    let readStatus = FaultStatus(rawValue: registers.status)
    if readStatus.contains(.memManageAddressValid) { registers.memManageAddress = SystemControl.memManageFaultAddress.read() }
    if readStatus.contains(.busFaultAddressValid) { registers.busFaultAddress = SystemControl.busFaultAddress.read() }
    SystemControl.configurableFaultStatus.write(registers.status)  // write-one-to-clear
    // One event can raise two fault classes: a frame the MPU refused below a RAM that ends
    // there (the STM32's, at 0x20000000) is a MemManage and a BusFault. The status of both
    // is read here and cleared; the other class's exception, still pending, would come next
    // with no status and be taken for a second fault of whatever runs then. It is dropped.
    let pendedBits: UInt32 = (readStatus.isDisjoint(with: .memManage) ? 0 : 1 << 13)
        | (readStatus.isDisjoint(with: .bus) ? 0 : 1 << 14) | (readStatus.isDisjoint(with: .usage) ? 0 : 1 << 12)
    SystemControl.systemHandlerControlState.modify { $0 &= ~pendedBits }  // SHCSR MEM/BUS/USGFAULTPENDED
    #endif
    let fromThread = exceptionReturn & 0b1000 != 0
    let onProcessStack = exceptionReturn & 0b100 != 0
    var task = fromThread && onProcessStack ? currentTask : nil
    let status = FaultStatus(rawValue: registers.status)
    #if KEEL_FPU
    // A lazy-state error (MLSPERR, LSPERR) is taken in the handler whose first FP instruction
    // asked for the interrupted context's s0-s15: the write that failed was into that
    // context's extended frame, reserved at FPCAR - 32. When that frame is the running task's
    // (the handler interrupted it: PendSV switching it out, or a device handler), the fault is
    // the task's overflow, its frame having reached past its stack, not the handler's.
    var lazyState = false
    if task == nil, !status.isDisjoint(with: [.memManageLazyState, .busLazyState]), let running = currentTask,
       lazyStateAddress &- 32 < running.pointee.stackTop, lazyStateAddress &- 32 >= running.pointee.guardBottom &- 4096 {
        task = running
        frame = lazyStateAddress &- 32
        lazyState = true
    }
    #endif
    // The idle task is the kernel's: its fault is the kernel's.
    if let running = task, Int(running.pointee.index) == scheduler.taskCount &- 1 { task = nil }

    // When stacking failed there is no frame to read the PC from. After a failed stacking
    // under a limit register the hardware leaves SP at the limit; the MPU moves SP anyway.
    let limit = task?.pointee.context.stackLimit ?? linkerSymbol(mainStackBottom)
    let stackOverflowed = status.contains(.stackOverflow)
    let duringStacking = status.stackingFailed || (stackOverflowed && frame <= limit)
    let bottom = task?.pointee.stackBottom ?? linkerSymbol(mainStackBottom)
    var diagnosis = Diagnosis(fault: FaultReport(task: task, kind: faultKind(exception), technique: .none, pc: 0, sp: frame,
                                                 limit: bottom, registers: registers, duringStacking: duringStacking))
    MPUSnapshot.capture()
    // A frame that was pushed and lies in RAM can be read (a garbage PC is better than none).
    if !duringStacking && MemoryMap.isRAM(frame, bytes: 32) { diagnosis.fault.pc = Memory.loadWord(frame &+ 24) }
    // The address that was refused: the MPU's or the bus's fault address; nil when none is
    // named (a failed stacking names none: which word of the frame was refused is unknown).
    let refused: UInt32? = status.contains(.memManageAddressValid) ? registers.memManageAddress
        : status.contains(.busFaultAddressValid) ? registers.busFaultAddress : nil

    if Faults.blockingRefused != 0 {
        Faults.blockingRefused = 0
        diagnosis.fault.kind = task == nil ? .blockingInHandler : .blockingWithInterruptsMasked
        FaultResponse.respond(to: diagnosis, from: .faultHandler)
        Interrupts.restore(0)  // the task masked interrupts (PRIMASK is not in its frame): the next one must not inherit it
        Faults.handling = false
        return abandonedFrameReturn
    }
    if let task {
        #if KEEL_FPU
        if lazyState {
            // The write refused was in the reserved FP part, above the frame's integer words:
            // the first of its words inside the guard, when the MPU names none.
            let lazyRefused = refused ?? max(lazyStateAddress, min(task.pointee.guardBottom, task.pointee.stackBottom))
            diagnoseTaskFault(&diagnosis, task: task, status: status.union(.memManageStacking), refused: lazyRefused, frame: frame)
            diagnosis.fault.duringStacking = false
            FaultResponse.respond(to: diagnosis, from: .faultHandler)
            // The handler this fault interrupted, from the xPSR of the frame the fault pushed.
            FloatingPoint.continueAfterLazyStateFault(task, interruptedException: Memory.loadWord(faultFrame &+ 28) & 0x1FF)
            Faults.handling = false
            Interrupts.restore(0)
            return exceptionReturn  // back into the handler that asked for the lazy state
        }
        #endif
        if status.refusedByMPU && SegmentGuard.refused(task, address: refused, frame: frame) {
            SegmentGuard.diagnose(&diagnosis, task: task, frame: frame)
        } else {
            diagnoseTaskFault(&diagnosis, task: task, status: status, refused: refused, frame: frame)
        }
        FaultResponse.respond(to: diagnosis, from: .faultHandler)
        Faults.handling = false
        // The task may have faulted inside a critical section (a kernel call masks interrupts,
        // and its first push can be the one that overflows: the fault is then a HardFault).
        // PRIMASK survives the exception return, so left set it would keep the pending
        // PendSV out: the return would resume the stopped task's code on its repainted stack.
        // The task's own masking ends with it (stopped, or started over unmasked).
        Interrupts.restore(0)
        return abandonedFrameReturn
    }
    // The kernel's own fault. Its stack overflowed when the limit tripped (MSPLIM), when the
    // refused address is below the handler stack (its guard on PMSAv7, or outside RAM on the
    // M0, where the handler stack sits at the bottom of RAM), or when MSP is below it.
    let address = refused ?? frame
    if stackOverflowed {
        diagnosis.fault.kind = .stackOverflow
        diagnosis.fault.technique = .limitRegister
        diagnosis.fault.evidence = .refused
    } else if frame < bottom || (address < bottom && address >= bottom &- 4096) {
        diagnosis.fault.kind = .stackOverflow
        diagnosis.fault.hit = MemoryMap.owner(of: min(frame, address))
        if case .handlerGuard = diagnosis.fault.hit { diagnosis.fault.technique = .mpuGuard }
    }
    FaultResponse.respond(to: diagnosis, from: .faultHandler)
    return exceptionReturn  // not reached: a kernel fault resets
}

/// Names a task's fault: its own overflow (which technique caught it, what it hit, what it
/// may have written below its stack), a write into another task's stack, or another fault of
/// its own. The running task is the culprit in every case.
private func diagnoseTaskFault(_ diagnosis: inout Diagnosis, task: TaskPointer, status: FaultStatus, refused: UInt32?, frame: UInt32) {
    let protections = task.pointee.protections
    let bottom = task.pointee.stackBottom
    let guardBottom = task.pointee.guardBottom
    let byMPU = status.refusedByMPU
    if status.contains(.stackOverflow) {
        // PSPLIM refused the move itself: nothing below the limit was written. The limit is
        // the stack's bottom, or a segmented task's segment in use.
        diagnosis.fault.kind = .stackOverflow
        diagnosis.fault.technique = .limitRegister
        diagnosis.fault.limit = task.pointee.context.stackLimit
        diagnosis.fault.evidence = .refused
        return
    }
    let address = refused ?? frame
    // The stack overflowed when SP itself left it, or an access was refused in its guard.
    guard frame < bottom || (address < bottom && address >= guardBottom) else {
        let owner = MemoryMap.owner(of: address)
        if byMPU, let other = owner.task, other != task {
            // A write into another task's stack (not an overflow of this one): T2 refused it.
            diagnosis.fault.kind = .foreignStackWrite
            diagnosis.fault.technique = .mpuRegion
            diagnosis.fault.hit = owner
            diagnosis.fault.evidence = .refused
        }
        return
    }
    diagnosis.fault.kind = .stackOverflow
    // What caught it is what refused the access; what it hit is where it went lowest.
    let reach = min(frame, address)
    let refuser = MemoryMap.owner(of: address)
    diagnosis.fault.hit = MemoryMap.owner(of: reach)
    if case .guardRegion(let guarded) = refuser, guarded == task, byMPU {
        diagnosis.fault.technique = .mpuGuard
    } else if byMPU && (protections.contains(.mpuRegion) || refuser.task?.pointee.protections.contains(.mpuRegion) == true) {
        diagnosis.fault.technique = .mpuRegion  // a T2 stack (its neighbour's or the block's), which the MPU keeps unwritable
    } else if case .handlerGuard = refuser {
        diagnosis.fault.technique = .mpuGuard
    } else {
        diagnosis.fault.technique = .none  // caught by what it hit (outside RAM: a bus fault), not by a technique of its own
    }
    if guardBottom != bottom && reach < guardBottom { diagnosis.fault.jumpedBytes = guardBottom &- reach }
    // Everything from the lowest point reached up to the guard may have been written, except
    // what the MPU refused (the snapshot says which) and what lies outside RAM (the bus refused
    // it). A frame the hardware did push was written: that part is proven.
    diagnosis.written = WrittenRange(lowest: max(reach, MemoryMap.ramStart), top: guardBottom)
    if !diagnosis.fault.duringStacking {
        diagnosis.written.provenLowest = frame
        diagnosis.written.provenTop = min(frame &+ 32, guardBottom)
    }
    diagnosis.fault.outsideBytes = diagnosis.writableBelow
    diagnosis.fault.evidence = diagnosis.fault.outsideBytes == 0 ? .refused
        : !diagnosis.fault.duringStacking && frame < guardBottom ? .frame : .refusedBelow
}

private func faultKind(_ exception: UInt32) -> FaultKind {
    switch exception {
    case 3: .hardFault
    case 4: .memoryManagement
    case 5: .busFault
    case 6: .usageFault
    default: .fault
    }
}
