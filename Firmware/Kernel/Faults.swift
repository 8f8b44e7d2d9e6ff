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

    /// What is printed and kept across a reset, as plain numbers.
    var stored: StoredFault {
        StoredFault(kind: kind.rawValue, technique: technique.rawValue, pc: pc, sp: sp, limit: limit, registers: registers)
    }
}

/// A fault as plain numbers: enums are kept as raw values because a reset record read back
/// from RAM must never be trusted to hold a valid case.
struct StoredFault {
    var kind: UInt8
    var technique: UInt8
    var pc: UInt32
    var sp: UInt32
    var limit: UInt32
    var registers: FaultRegisters
}

enum Faults {
    /// A switch-out check (T4, T5) found the outgoing task's stack overflowed. Runs in PendSV
    /// after the task's context was saved. Out of line, so the switch path stays a leaf
    /// (no frame, no saved registers) when nothing is found.
    @inline(never)
    static func overflowDetectedAtSwitch(_ task: TaskPointer, technique: Technique) {
        // The saved exception frame's PC is where the task was when it was switched out, but
        // only a frame inside the stack is trustworthy: one pushed below it lies in memory that
        // others (the handler stack, a neighbour) have written since. Its PC is reported as 0.
        let sp = task.pointee.context.stackPointer
        let framePlausible = sp >= task.pointee.stackBottom && sp &+ 32 <= task.pointee.stackTop
        let pc = framePlausible ? Memory.loadWord(sp &+ 24) : 0
        let fault = FaultReport(task: task, kind: .stackOverflow, technique: technique, pc: pc, sp: sp,
                                limit: task.pointee.stackBottom)
        FaultPolicy.apply(fault, to: task, from: .contextSwitch)
    }

    /// The heap could not satisfy `bytes`: the asking task is stopped (its allocation would
    /// otherwise come back null); in a handler or at boot, the system resets.
    static func outOfMemory(bytes: UInt32) {
        let task = Processor.isInHandlerMode ? nil : currentTask
        let fault = FaultReport(task: task, kind: .outOfMemory, technique: .none, pc: 0, sp: 0, limit: bytes)
        guard let task else { FaultPolicy.resetSystem(fault) }
        report(fault, action: "kill")
        Scheduler.stop(task, state: .killed)  // PendSV is taken inside: the task never returns here
    }

    static func report(_ fault: FaultReport, action: StaticString) {
        Console.write("keel:fault task=")
        if let task = fault.task { Console.write(task.pointee.name) } else { Console.write("handler") }
        writeFields(fault.stored)
        Console.write(" stacking=")
        Console.write(fault.duringStacking ? "failed" : "ok")
        Console.write(" action=")
        Console.write(action)
        Console.write("\n")
    }

    /// The fields every fault record has, after the task's name: " kind=... bfar=0x...".
    /// The same text for a fault now and for one kept across a reset (ResetRecord.swift).
    static func writeFields(_ fault: StoredFault) {
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
@_cdecl("keel_fault")
func faultHandler(_ frame: UInt32, _ exceptionReturn: UInt32, _ exception: UInt32) {
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
    var fault = FaultReport(task: task, kind: faultKind(exception), technique: .none, pc: 0, sp: frame,
                            limit: task?.pointee.stackBottom ?? linkerSymbol(mainStackBottom),
                            registers: registers, duringStacking: duringStacking)
    // The address the MPU refused: the fault address, or for a failed stacking the frame.
    let refused = status & memManageAddressValid != 0 ? registers.memManageAddress
        : (status & memManageStacking != 0 ? frame : 0)
    let byMPU = status & (memManageDataAccess | memManageStacking) != 0

    if let task {
        if stackOverflowed {
            fault.kind = .stackOverflow
            fault.technique = .limitRegister
        } else if byMPU {
            classifyMPUFault(&fault, task: task, address: refused)
        }
        if !duringStacking { fault.pc = Memory.loadWord(frame &+ 24) }
        FaultPolicy.apply(fault, to: task, from: .faultHandler)
        return
    }
    // The kernel's own fault. Its stack overflowed when the limit tripped (MSPLIM) or the MPU
    // refused an address in the handler stack's guard (PMSAv7).
    let handlerBottom = linkerSymbol(mainStackBottom)
    if stackOverflowed {
        fault.kind = .stackOverflow
        fault.technique = .limitRegister
    } else if byMPU && refused < handlerBottom && refused &+ 256 >= handlerBottom {
        fault.kind = .stackOverflow
        fault.technique = .mpuGuard
    }
    if !duringStacking && frame >= handlerBottom { fault.pc = Memory.loadWord(frame &+ 24) }
    FaultPolicy.resetSystem(fault)
}

/// Which MPU technique refused the access, and whether it was the task's own overflow.
private func classifyMPUFault(_ fault: inout FaultReport, task: TaskPointer, address: UInt32) {
    let protections = task.pointee.protections
    if address < task.pointee.stackBottom {
        // Below the running stack: its guard (T3), or a stack T2 keeps unwritable.
        fault.kind = .stackOverflow
        let inGuard = address >= task.pointee.guardBottom && protections.contains(.mpuGuard)
        fault.technique = inGuard || !protections.contains(.mpuRegion) ? .mpuGuard : .mpuRegion
    } else if address >= task.pointee.stackTop && protections.contains(.mpuRegion) {
        fault.kind = .foreignStackWrite
        fault.technique = .mpuRegion
    }
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
