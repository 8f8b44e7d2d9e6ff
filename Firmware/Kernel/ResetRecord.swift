// The fault record that survives a reset: written just before the kernel resets the system,
// printed by the next boot ("keel:previous-boot ..."), which `keel run` shows as
// "previous boot: ...".
//
// It lives in the last bytes of RAM (`keel_reset_record`, placed by the layout planner),
// which no output section covers: the ELF loader never writes there and start-up never
// clears it. A magic word and a check word tell a record from power-on garbage.

struct ResetRecord {
    static let pending: UInt32 = 0x4B45_454C  // "KEEL": written before a reset, not yet reported
    static let reported: UInt32 = 0x5345_454E // "SEEN": reported; the reset count stays valid

    var magic: UInt32 = 0
    /// Resets the kernel has made since power-on.
    var resets: UInt32 = 0
    var technique: UInt32 = 0
    var kind: UInt32 = 0
    var pc: UInt32 = 0
    var sp: UInt32 = 0
    var limit: UInt32 = 0
    var status: UInt32 = 0
    var hardFaultStatus: UInt32 = 0
    var memManageAddress: UInt32 = 0
    var busFaultAddress: UInt32 = 0
    /// The faulting task's name, NUL-padded ("handler" for the kernel's own faults).
    var name = InlineArray<32, UInt8>(repeating: 0)
    var check: UInt32 = 0

    var checksum: UInt32 {
        var sum = magic ^ 0x5A5A_5A5A
        for word in [resets, technique, kind, pc, sp, limit, status, hardFaultStatus, memManageAddress, busFaultAddress] {
            sum = (sum &<< 5 | sum &>> 27) ^ word
        }
        for index in 0..<32 { sum = (sum &<< 5 | sum &>> 27) ^ UInt32(name[index]) }
        return sum
    }
}

@_extern(c, "keel_reset_record") func resetRecordSymbol()

enum PreviousBoot {
    static var record: UnsafeMutablePointer<ResetRecord> {
        UnsafeMutablePointer(bitPattern: UInt(linkerSymbol(resetRecordSymbol))).unsafelyUnwrapped
    }

    /// At boot: report a pending record once; a cold boot (no valid record) starts the count at 0.
    static func reportAtBoot() {
        let record = self.record
        let valid = (record.pointee.magic == ResetRecord.pending || record.pointee.magic == ResetRecord.reported)
            && record.pointee.check == record.pointee.checksum
        guard valid else {
            record.initialize(to: ResetRecord())
            seal(magic: ResetRecord.reported)
            return
        }
        guard record.pointee.magic == ResetRecord.pending else { return }
        Console.write("keel:previous-boot task=")
        withUnsafePointer(to: &record.pointee.name) { name in
            let bytes = UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self)
            var index = 0
            while index < 32 && bytes[index] != 0 { Console.put(bytes[index]); index &+= 1 }
        }
        Console.write(" kind=")
        Console.write(FaultKind(rawValue: UInt8(truncatingIfNeeded: record.pointee.kind))?.reportName ?? "fault")
        Console.write(" technique=")
        Console.write(Technique(rawValue: UInt8(truncatingIfNeeded: record.pointee.technique))?.reportName ?? "none")
        Console.write(" pc=")
        Console.write(hex: record.pointee.pc)
        Console.write(" sp=")
        Console.write(hex: record.pointee.sp)
        Console.write(" limit=")
        Console.write(hex: record.pointee.limit)
        Console.write(" cfsr=")
        Console.write(hex: record.pointee.status)
        Console.write(" hfsr=")
        Console.write(hex: record.pointee.hardFaultStatus)
        Console.write(" mmfar=")
        Console.write(hex: record.pointee.memManageAddress)
        Console.write(" bfar=")
        Console.write(hex: record.pointee.busFaultAddress)
        Console.write(" resets=")
        Console.write(decimal: record.pointee.resets)
        Console.write("\n")
        seal(magic: ResetRecord.reported)
    }

    /// Resets the kernel has made since power-on (0 after a cold boot).
    static var resets: UInt32 { record.pointee.resets }

    /// Keeps `fault` for the next boot.
    static func keep(_ fault: FaultReport) {
        let record = self.record
        record.pointee.resets &+= 1
        record.pointee.technique = UInt32(fault.technique.rawValue)
        record.pointee.kind = UInt32(fault.kind.rawValue)
        record.pointee.pc = fault.pc
        record.pointee.sp = fault.sp
        record.pointee.limit = fault.limit
        record.pointee.status = fault.registers.status
        record.pointee.hardFaultStatus = fault.registers.hardFaultStatus
        record.pointee.memManageAddress = fault.registers.memManageAddress
        record.pointee.busFaultAddress = fault.registers.busFaultAddress
        record.pointee.name = InlineArray<32, UInt8>(repeating: 0)
        let name: StaticString = fault.task?.pointee.name ?? "handler"
        name.withUTF8Buffer { bytes in
            for index in 0..<min(bytes.count, 31) { record.pointee.name[index] = bytes[index] }
        }
        seal(magic: ResetRecord.pending)
    }

    private static func seal(magic: UInt32) {
        record.pointee.magic = magic
        record.pointee.check = record.pointee.checksum
    }
}
