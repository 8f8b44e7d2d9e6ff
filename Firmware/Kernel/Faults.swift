// Fault reporting: what was detected, in which task, by which technique, and what the kernel did.
//
// Every fault becomes one "keel:fault" record with key=value fields that `keel run` decodes
// (and symbolises: the PC becomes a function name from the ELF). Then the task's policy
// applies (FaultPolicy.swift): kill, restart or reset. A fault of the kernel itself, or of
// an interrupt handler, always resets the system with a record the next boot reports:
// a kernel whose own stack overflowed must not go on, nor hang.

struct FaultRegisters {
    var status: UInt32 = 0            // CFSR (ARMv7-M/ARMv8-M), 0 on ARMv6-M
    var hardFaultStatus: UInt32 = 0   // HFSR
    var memManageAddress: UInt32 = 0  // MMFAR, valid when CFSR.MMARVALID
    var busFaultAddress: UInt32 = 0   // BFAR, valid when CFSR.BFARVALID
}

enum FaultKind: UInt8 {
    case stackOverflow, foreignStackWrite, hardFault, memoryManagement, busFault, usageFault, unexpectedInterrupt, fault
    case outOfMemory
    /// A segmented stack could not grow: the pool was empty or the task reached its `max`.
    case stackExhausted
    /// Another task's overflow wrote this task's stack (`cause`); the task did nothing wrong.
    case stackOverwritten
    /// A fault while the kernel was already handling one: the kernel resets.
    case faultInFaultPath
    /// A call that can block (one with a `timeout:`) was made in an interrupt handler.
    case blockingInHandler
    /// A task made a call that can block inside `Keel.withInterruptsMasked`: it could never
    /// be switched away, so it would spin forever with every interrupt held off.
    case blockingWithInterruptsMasked

    var reportName: StaticString {
        switch self {
        case .stackOverflow: "stack-overflow"
        case .foreignStackWrite: "foreign-stack-write"
        case .hardFault: "hard-fault"
        case .memoryManagement: "memory-management-fault"
        case .busFault: "bus-fault"
        case .usageFault: "usage-fault"
        case .unexpectedInterrupt: "unexpected-interrupt"
        case .fault: "fault"
        case .outOfMemory: "out-of-memory"
        case .stackExhausted: "stack-exhausted"
        case .stackOverwritten: "stack-overwritten"
        case .faultInFaultPath: "fault-in-fault-path"
        case .blockingInHandler: "blocking-in-handler"
        case .blockingWithInterruptsMasked: "blocking-with-interrupts-masked"
        }
    }
}

/// One detected fault, as reported and as kept across a reset. `task` is nil for the kernel.
struct FaultReport {
    var task: TaskPointer?
    var kind: FaultKind
    var technique: Technique
    var pc: UInt32
    var sp: UInt32
    var limit: UInt32
    var registers = FaultRegisters()
    /// The hardware could not push the exception frame (MSTKERR, STKERR, STKOF on entry).
    var duringStacking = false
    /// What the overflow's lowest known address belongs to; `.none` when it stayed in the
    /// task's own stack and guard.
    var hit = MemoryOwner.none
    /// Bytes below the stack (and its guard) the overflow reached, at least.
    var outsideBytes: UInt32 = 0
    /// For a task with an MPU guard: how far below the guard the overflow's refused access was.
    var jumpedBytes: UInt32 = 0
    /// The task whose overflow wrote this task's stack (a victim's report, or a later fault
    /// of a task that lay below such an overflow).
    var cause: TaskPointer? = nil

    /// What is printed and kept across a reset, as plain numbers.
    var stored: StoredFault {
        StoredFault(kind: kind.rawValue, technique: technique.rawValue, hit: hit.code, pc: pc, sp: sp, limit: limit,
                    outside: outsideBytes, jumped: jumpedBytes, registers: registers)
    }
}

/// A fault as plain numbers: enums are kept as raw values because a reset record read back
/// from RAM must never be trusted to hold a valid case.
struct StoredFault {
    var kind: UInt8
    var technique: UInt8
    var hit: UInt8
    var pc: UInt32
    var sp: UInt32
    var limit: UInt32
    var outside: UInt32
    var jumped: UInt32
    var registers: FaultRegisters
}

enum Faults {
    /// Set while the fault handler runs: a fault then is a fault of the fault path itself.
    nonisolated(unsafe) static var handling = false

    /// A switch-out check (T4, T5) found the outgoing task's stack overflowed. Runs in PendSV
    /// after the task's context was saved. Out of line, so the switch path stays a leaf
    /// (no frame, no saved registers) when nothing is found.
    /// Compiled only with a switch-out detector (T4, T5): nothing else calls it.
    #if KEEL_SP_CHECK || KEEL_RED_ZONE
    @inline(never)
    static func overflowDetectedAtSwitch(_ task: TaskPointer, technique: Technique) {
        // The saved exception frame's PC is where the task was when it was switched out, but
        // only a frame inside the stack is trustworthy: one pushed below it lies in memory that
        // others (the handler stack, a neighbour) have written since. Its PC is reported as 0.
        let sp = task.pointee.context.stackPointer
        let bottom = task.pointee.stackBottom
        let framePlausible = sp >= bottom && sp &+ 32 <= task.pointee.stackTop
        let pc = framePlausible ? Memory.loadWord(sp &+ 24) : 0
        var fault = FaultReport(task: task, kind: .stackOverflow, technique: technique, pc: pc, sp: sp, limit: bottom)
        // What was written below the stack: at least everything from the saved SP up (the
        // hardware pushed its frame there). A red zone whose lowest word changed was written
        // down to the bottom: the word below may have been written too.
        var lowest = bottom
        if sp < bottom {
            lowest = sp
            fault.outsideBytes = bottom &- sp
        } else if technique == .redZone && Memory.loadWord(bottom) != stackPaintWord {
            lowest = bottom &- 4
        }
        if lowest < bottom { fault.hit = MemoryMap.owner(of: lowest) }
        FaultPolicy.apply(fault, to: task, from: .contextSwitch)
        Containment.contain(fault, culprit: task, lowest: lowest, top: task.pointee.guardBottom)
    }
    #endif

    /// The heap could not satisfy `bytes`: the asking task is stopped (its allocation would
    /// otherwise come back null); in a handler or at boot, the system resets. In a split-stack
    /// image the allocation may be deep in task code whose prologue checks passed, with only
    /// the slack below: nothing is reported on that stack. A task's stop then takes the way
    /// of a refused segment (PendSV reports it), a handler's reset runs from the top of the
    /// handler stack. Elsewhere the report runs where the allocation failed.
    static func outOfMemory(bytes: UInt32) -> Never {
        let task = Processor.isInHandlerMode ? nil : currentTask
        let fault = FaultReport(task: task, kind: .outOfMemory, technique: .none, pc: 0, sp: 0, limit: bytes)
        #if KEEL_SPLIT_STACK
        guard let task else { resetOnFreshMainStack(fault) }
        SegmentedStacks.refuse(task, .heap, bytes, portProcessStack())
        #else
        guard let task else { FaultPolicy.resetSystem(fault) }
        report(fault, action: "kill")
        Scheduler.stop(task, state: .killed)  // PendSV is taken inside: the task never returns here
        while true { Processor.waitForInterrupt() }  // not reached
        #endif
    }

    #if KEEL_SPLIT_STACK
    /// Resets with `fault` from the top of the handler stack: the caller may be split code
    /// with only the slack left below its limit, too little for the report.
    static func resetOnFreshMainStack(_ fault: FaultReport) -> Never {
        pendingReset = fault
        portCallOnFreshMainStack { FaultPolicy.resetSystem(Faults.pendingReset) }
        while true {}  // not reached: the call resets
    }

    /// The fault `resetOnFreshMainStack` resets with (a static: the new stack cannot see the old).
    nonisolated(unsafe) static var pendingReset = FaultReport(task: nil, kind: .fault, technique: .none, pc: 0, sp: 0, limit: 0)
    #endif

    /// A call that can block, reached where it cannot: in a handler (no task to park) or in a
    /// task that masked interrupts itself (no switch can happen). Traps, so that the report
    /// runs in the fault handler on the handler stack: the call path of every blocking call
    /// (every task's worst case) then holds a store and one instruction, not a fault report.
    /// In a handler the system resets, as for any handler fault; a task gets its policy.
    @inline(__always)
    static func refuseBlocking() -> Never {
        // A volatile store: the compiler would drop a plain one, as nothing reads it before the trap.
        Register(address: withUnsafeMutablePointer(to: &blockingRefused) { UInt(bitPattern: $0) }).write(1)
        fatalError()  // a permanently undefined instruction: UsageFault, or HardFault when masked
    }

    /// Set to 1 just before `refuseBlocking` traps: the fault handler's sign that the trap is that.
    nonisolated(unsafe) static var blockingRefused: UInt32 = 0

    static func report(_ fault: FaultReport, action: StaticString) {
        StackEvidence.report(fault)  // the task's stack words, before the policy repaints them
        Console.write("keel:fault task=")
        if let task = fault.task { Console.write(task.pointee.name) } else { Console.write("handler") }
        writeFields(fault.stored, hitTask: fault.hit.task)
        if let cause = fault.cause {
            Console.write(" by=")
            Console.write(cause.pointee.name)
        }
        Console.write(" stacking=")
        Console.write(fault.duringStacking ? "failed" : "ok")
        Console.write(" action=")
        Console.write(action)
        Console.write("\n")
    }

    /// The fields every fault record has, after the task's name: " kind=... jumped=N".
    /// The same text for a fault now and for one kept across a reset (ResetRecord.swift),
    /// which keeps no pointers: there the hit names its kind only.
    static func writeFields(_ fault: StoredFault, hitTask: TaskPointer? = nil) {
        Console.write(" kind=")
        Console.write(FaultKind(rawValue: fault.kind)?.reportName ?? "fault")
        Console.write(" technique=")
        Console.write(Technique(rawValue: fault.technique)?.reportName ?? "none")
        Console.write(" pc=")
        Console.write(hex: fault.pc)
        Console.write(" sp=")
        Console.write(hex: fault.sp)
        Console.write(" limit=")
        Console.write(hex: fault.limit)
        Console.write(" cfsr=")
        Console.write(hex: fault.registers.status)
        Console.write(" hfsr=")
        Console.write(hex: fault.registers.hardFaultStatus)
        Console.write(" mmfar=")
        Console.write(hex: fault.registers.memManageAddress)
        Console.write(" bfar=")
        Console.write(hex: fault.registers.busFaultAddress)
        Console.write(" hit=")
        Console.write(MemoryOwner.name(ofCode: fault.hit))
        if let hitTask {
            Console.write(":")
            Console.write(hitTask.pointee.name)
        }
        Console.write(" outside=")
        Console.write(decimal: fault.outside)
        Console.write(" jumped=")
        Console.write(decimal: fault.jumped)
    }

    /// A fault while the fault path was running: nothing the kernel holds can be trusted any
    /// more, so it resets at once with the bare facts.
    static func faultInFaultPath(frame: UInt32, exception: UInt32) -> Never {
        FaultPolicy.resetSystem(FaultReport(task: nil, kind: .faultInFaultPath, technique: .none, pc: 0, sp: frame,
                                            limit: exception))
    }
}

// CFSR bits (ARMv7-M B3.2.15; ARMv8-M adds STKOF).
private let memManageDataAccess: UInt32 = 1 << 1      // MMFSR.DACCVIOL
private let memManageStacking: UInt32 = 1 << 4        // MMFSR.MSTKERR
private let memManageAddressValid: UInt32 = 1 << 7    // MMFSR.MMARVALID
private let busFaultStacking: UInt32 = 1 << 12        // BFSR.STKERR
private let busFaultAddressValid: UInt32 = 1 << 15    // BFSR.BFARVALID
private let usageFaultStackOverflow: UInt32 = 1 << 20  // UFSR.STKOF

/// Called by the port's fault entry for HardFault, MemManage, BusFault and UsageFault.
/// Inputs: the stack the frame was pushed on, EXC_RETURN, the exception number.
/// Returns only when the policy let the system go on (kill or restart of a task).
/// Never reads memory outside RAM: on the M0 a read there would fault inside HardFault,
/// which locks the core up.
@_cdecl("keel_fault")
func faultHandler(_ frame: UInt32, _ exceptionReturn: UInt32, _ exception: UInt32) {
    if Faults.handling { Faults.faultInFaultPath(frame: frame, exception: exception) }
    Faults.handling = true
    var registers = FaultRegisters()
    #if !KEEL_ARMV6M
    registers.status = SystemControl.configurableFaultStatus.read()
    registers.hardFaultStatus = SystemControl.hardFaultStatus.read()
    if registers.status & memManageAddressValid != 0 { registers.memManageAddress = SystemControl.memManageFaultAddress.read() }
    if registers.status & busFaultAddressValid != 0 { registers.busFaultAddress = SystemControl.busFaultAddress.read() }
    SystemControl.configurableFaultStatus.write(registers.status)  // write-one-to-clear
    #endif
    let fromThread = exceptionReturn & 0b1000 != 0
    let onProcessStack = exceptionReturn & 0b100 != 0
    var task = fromThread && onProcessStack ? currentTask : nil
    // The idle task is the kernel's: its fault is the kernel's.
    if let running = task, Int(running.pointee.index) == scheduler.taskCount &- 1 { task = nil }

    let status = registers.status
    let stackOverflowed = status & usageFaultStackOverflow != 0
    // When stacking failed there is no frame to read the PC from. After a failed stacking
    // under a limit register the hardware leaves SP at the limit; the MPU moves SP anyway.
    let limit = task?.pointee.context.stackLimit ?? linkerSymbol(mainStackBottom)
    let duringStacking = status & (memManageStacking | busFaultStacking) != 0 || (stackOverflowed && frame <= limit)
    let bottom = task?.pointee.stackBottom ?? linkerSymbol(mainStackBottom)
    var fault = FaultReport(task: task, kind: faultKind(exception), technique: .none, pc: 0, sp: frame,
                            limit: bottom, registers: registers, duringStacking: duringStacking)
    // The address that was refused: the MPU's or the bus's fault address, or for a failed
    // stacking the frame itself.
    let addressValid = status & (memManageAddressValid | busFaultAddressValid | memManageStacking | busFaultStacking) != 0
    let refused = status & memManageAddressValid != 0 ? registers.memManageAddress
        : status & busFaultAddressValid != 0 ? registers.busFaultAddress : frame
    let byMPU = status & (memManageDataAccess | memManageStacking) != 0
    // A frame that was pushed and lies in RAM can be read (a garbage PC is better than none).
    if !duringStacking && MemoryMap.isRAM(frame, bytes: 32) { fault.pc = Memory.loadWord(frame &+ 24) }

    if Faults.blockingRefused != 0 {
        Faults.blockingRefused = 0
        fault.kind = task == nil ? .blockingInHandler : .blockingWithInterruptsMasked
        guard let task else { FaultPolicy.resetSystem(fault) }
        FaultPolicy.apply(fault, to: task, from: .faultHandler)
        Interrupts.restore(0)  // the task masked interrupts (PRIMASK is not in its frame): the next one must not inherit it
        Faults.handling = false
        return
    }
    if let task {
        // A failed stacking names no address (MMARVALID and BFARVALID are clear): which word of
        // the frame was refused is unknown, and under the MPU none of it was written.
        let refusedKnown = status & (memManageAddressValid | busFaultAddressValid) != 0
        var lowest: UInt32, top = task.pointee.guardBottom
        if byMPU && SegmentGuard.refused(task, address: refusedKnown ? refused : nil, frame: frame) {
            top = SegmentGuard.activeBottom(task)  // before the policy gives the segments back
            lowest = SegmentGuard.classify(&fault, task: task, frame: frame)
        } else {
            lowest = classifyTaskFault(&fault, task: task, stackOverflowed: stackOverflowed, byMPU: byMPU,
                                       refused: refusedKnown ? refused : nil, frame: frame)
        }
        FaultPolicy.apply(fault, to: task, from: .faultHandler)
        Containment.contain(fault, culprit: task, lowest: lowest, top: top)
        Faults.handling = false
        // The task may have faulted inside a critical section (a kernel call masks interrupts,
        // and its first push can be the one that overflows: the fault is then a HardFault).
        // PRIMASK survives the exception return, so left set it would keep the pending
        // PendSV out: the return would resume the stopped task's code on its repainted stack.
        // The task's own masking ends with it (stopped, or started over unmasked).
        Interrupts.restore(0)
        return
    }
    // The kernel's own fault. Its stack overflowed when the limit tripped (MSPLIM), when the
    // refused address is below the handler stack (its guard on PMSAv7, or outside RAM on the
    // M0, where the handler stack sits at the bottom of RAM), or when MSP is below it.
    let address = addressValid ? refused : frame
    if stackOverflowed {
        fault.kind = .stackOverflow
        fault.technique = .limitRegister
    } else if frame < bottom || (address < bottom && address >= bottom &- 4096) {
        fault.kind = .stackOverflow
        fault.hit = MemoryMap.owner(of: min(frame, address))
        if case .handlerGuard = fault.hit { fault.technique = .mpuGuard }
    }
    FaultPolicy.resetSystem(fault)
}

/// Names a task's fault: its own overflow (and which technique caught it, what it hit, how
/// far it reached), a write into another task's stack, or a fault caused by an earlier
/// overflow. Returns the lowest address the overflow may have written (the bottom of the
/// stack's guard when it wrote nothing outside).
private func classifyTaskFault(_ fault: inout FaultReport, task: TaskPointer, stackOverflowed: Bool, byMPU: Bool,
                               refused: UInt32?, frame: UInt32) -> UInt32 {
    let protections = task.pointee.protections
    let bottom = task.pointee.stackBottom
    let guardBottom = task.pointee.guardBottom
    if stackOverflowed {
        // PSPLIM refused the move itself: nothing below the limit was written. The limit is
        // the stack's bottom, or a segmented task's segment in use.
        fault.kind = .stackOverflow
        fault.technique = .limitRegister
        fault.limit = task.pointee.context.stackLimit
        return guardBottom
    }
    let address = refused ?? frame
    // The stack overflowed when SP itself left it, or an access was refused in its guard.
    guard frame < bottom || (address < bottom && address >= guardBottom) else {
        let owner = MemoryMap.owner(of: address)
        if byMPU, let other = owner.task, other != task {
            // A write into another task's stack (not an overflow of this one): T2 refused it.
            fault.kind = .foreignStackWrite
            fault.technique = .mpuRegion
            fault.hit = owner
        } else if let cause = Containment.probableCause(of: task) {
            fault.cause = cause
        }
        return guardBottom
    }
    fault.kind = .stackOverflow
    // What caught it is what refused the access; what it hit is where it went lowest.
    let refuser = MemoryMap.owner(of: address)
    let owner = MemoryMap.owner(of: min(frame, address))
    if case .guardRegion(let guarded) = refuser, guarded == task, byMPU {
        fault.technique = .mpuGuard
        if min(frame, address) >= guardBottom { return guardBottom }  // all in its own guard: nothing outside touched
    } else if byMPU && (protections.contains(.mpuRegion) || refuser.task?.pointee.protections.contains(.mpuRegion) == true) {
        fault.technique = .mpuRegion  // a T2 stack (its neighbour's or the block's), which the MPU keeps unwritable
    } else if case .handlerGuard = refuser {
        fault.technique = .mpuGuard
    } else {
        fault.technique = .none  // caught by what it hit (outside RAM: a bus fault), not by a technique of its own
    }
    fault.hit = owner
    // The refused word was not written; a frame the hardware did push was.
    let lowestWritten = min(fault.duringStacking ? frame &+ 32 : frame, refused.map { ($0 & ~3) &+ 4 } ?? UInt32.max)
    if lowestWritten < guardBottom { fault.outsideBytes = guardBottom &- lowestWritten }
    if guardBottom != bottom && min(frame, address) < guardBottom { fault.jumpedBytes = guardBottom &- min(frame, address) }
    return min(lowestWritten, guardBottom)
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
