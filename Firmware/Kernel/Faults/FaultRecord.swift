// A fault as the kernel reports it: the value the diagnosis fills in, the plain numbers kept
// across a reset, and the one `keel:fault` line every fault becomes (`keel run` decodes it
// with the names in Contract/, which the host shares).

struct FaultRegisters {
    var status: UInt32 = 0            // CFSR (ARMv7-M/ARMv8-M), 0 on ARMv6-M
    var hardFaultStatus: UInt32 = 0   // HFSR
    var memManageAddress: UInt32 = 0  // MMFAR, valid when CFSR.MMARVALID
    var busFaultAddress: UInt32 = 0   // BFAR, valid when CFSR.BFARVALID
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
    /// The task whose overflow wrote this task's stack (a victim's report).
    var cause: TaskPointer? = nil
    /// How what the overflow wrote below the stack was decided (the culprit's record), or
    /// for a victim whether its live stack was proven written (`.frame`, `.stackPointer`...)
    /// or only in reach (`.none`: the evidence is ambiguous and the kernel stopped it anyway).
    var evidence = WriteEvidence.none
    /// For a victim: whether bytes of its live stack were certainly written.
    var proven = false

    /// What is printed and kept across a reset, as plain numbers.
    var stored: StoredFault {
        StoredFault(kind: kind.rawValue, technique: technique.rawValue, hit: hit.code, pc: pc, sp: sp, limit: limit,
                    outside: outsideBytes, jumped: jumpedBytes, evidence: evidence.rawValue, registers: registers)
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
    var evidence: UInt8
    var registers: FaultRegisters
}

extension Faults {
    static func report(_ fault: FaultReport, action: StaticString) {
        StackEvidence.report(fault)  // the task's stack words, before the policy repaints them
        Console.write("keel:fault task=")
        if let task = fault.task { Console.write(task.pointee.name) } else { Console.write("handler") }
        writeFields(fault.stored, hitTask: fault.hit.task)
        if let cause = fault.cause {
            Console.write(" by=")
            Console.write(cause.pointee.name)
            Console.write(fault.proven ? " proof=proven" : " proof=possible")
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
        Console.write(" evidence=")
        Console.write(WriteEvidence(rawValue: fault.evidence)?.reportName ?? "none")
    }

}
