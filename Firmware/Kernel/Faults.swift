// Fault reporting: what was detected, in which task, by which technique, and what the kernel did.
//
// Every report is one "keel:fault" record with key=value fields that `keel run` decodes
// (and symbolises: the PC becomes a function name from the ELF). The policy today is
// "kill": the task stops for good and every other task keeps running. A fault in handler
// mode is the kernel's own and ends the run with exit code 3.

struct FaultRegisters {
    var status: UInt32 = 0            // CFSR (ARMv7-M/ARMv8-M), 0 on ARMv6-M
    var hardFaultStatus: UInt32 = 0   // HFSR
    var memManageAddress: UInt32 = 0  // MMFAR, valid when CFSR.MMARVALID
    var busFaultAddress: UInt32 = 0   // BFAR, valid when CFSR.BFARVALID
}

enum Faults {
    /// A switch-out check (T4, T5) found the outgoing task's stack overflowed.
    static func overflowDetectedAtSwitch(_ task: TaskPointer, technique: Technique) {
        // The saved exception frame's PC is where the task was when it was switched out, but
        // only a frame inside the stack is trustworthy: one pushed below it lies in memory that
        // others (the handler stack, a neighbour) have written since. Its PC is reported as 0.
        let sp = task.pointee.context.stackPointer
        let framePlausible = sp >= task.pointee.stackBottom && sp &+ 32 <= task.pointee.stackTop
        let pc = framePlausible ? Memory.loadWord(sp &+ 24) : 0
        report(task: task, kind: "stack-overflow", technique: technique, pc: pc, sp: sp,
               limit: task.pointee.stackBottom, registers: FaultRegisters())
        kill(task)
    }

    static func kill(_ task: TaskPointer) {
        Scheduler.stop(task, state: .killed)
    }

    static func report(task: TaskPointer?, kind: StaticString, technique: Technique, pc: UInt32, sp: UInt32,
                       limit: UInt32, registers: FaultRegisters) {
        Console.write("keel:fault task=")
        if let task { Console.write(task.pointee.name) } else { Console.write("handler") }
        Console.write(" kind=")
        Console.write(kind)
        Console.write(" technique=")
        Console.write(technique.reportName)
        Console.write(" pc=")
        Console.write(hex: pc)
        Console.write(" sp=")
        Console.write(hex: sp)
        Console.write(" limit=")
        Console.write(hex: limit)
        Console.write(" cfsr=")
        Console.write(hex: registers.status)
        Console.write(" hfsr=")
        Console.write(hex: registers.hardFaultStatus)
        Console.write(" mmfar=")
        Console.write(hex: registers.memManageAddress)
        Console.write(" bfar=")
        Console.write(hex: registers.busFaultAddress)
        Console.write(" action=")
        Console.write(task == nil ? "halt" : "kill")
        Console.write("\n")
    }
}

// CFSR bits (ARMv7-M B3.2.15, ARMv8-M adds STKOF).
private let usageFaultStackOverflow: UInt32 = 1 << 20  // UFSR.STKOF
private let memManageStacking: UInt32 = 1 << 4        // MMFSR.MSTKERR
private let busFaultStacking: UInt32 = 1 << 12        // BFSR.STKERR
private let memManageAddressValid: UInt32 = 1 << 7    // MMFSR.MMARVALID
private let busFaultAddressValid: UInt32 = 1 << 15    // BFSR.BFARVALID

/// Called by the port's fault entry for HardFault, MemManage, BusFault and UsageFault.
/// Inputs: the stack the frame was pushed on, EXC_RETURN, the exception number.
/// Returns when the faulting task has been killed; PendSV then switches to another task.
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
    let task = fromThread && onProcessStack ? currentTask : nil

    // When stacking itself failed there is no frame to read the PC from. After a failed
    // stacking under PSPLIM the hardware leaves PSP exactly at the limit.
    let stackingFailed = registers.status & (memManageStacking | busFaultStacking) != 0
        || (registers.status & usageFaultStackOverflow != 0 && frame <= (task?.pointee.context.stackLimit ?? 0))
    let pc = stackingFailed ? 0 : Memory.loadWord(frame &+ 24)

    if let task {
        let isOverflow = registers.status & usageFaultStackOverflow != 0
        let technique: Technique = isOverflow ? .limitRegister : .none
        Faults.report(task: task, kind: isOverflow ? "stack-overflow" : faultKind(exception), technique: technique,
               pc: pc, sp: frame, limit: task.pointee.stackBottom, registers: registers)
        Faults.kill(task)
        return
    }
    Faults.report(task: nil, kind: faultKind(exception), technique: .none, pc: pc, sp: frame, limit: 0, registers: registers)
    Console.exit(code: 3)
}

private func faultKind(_ exception: UInt32) -> StaticString {
    switch exception {
    case 3: "hard-fault"
    case 4: "memory-management-fault"
    case 5: "bus-fault"
    case 6: "usage-fault"
    default: "fault"
    }
}
