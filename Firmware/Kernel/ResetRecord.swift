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
    var fault = StoredFault(kind: 0, technique: 0, hit: 0, pc: 0, sp: 0, limit: 0, outside: 0, jumped: 0, evidence: 0,
                            registers: FaultRegisters())
    /// The faulting task's name, NUL-padded ("handler" for the kernel's own faults).
    var name = InlineArray<28, UInt8>(repeating: 0)
    /// The task whose overflow caused the fault, NUL-padded; empty when none did.
    var cause = InlineArray<28, UInt8>(repeating: 0)
    /// Must stay the last member: the checksum covers every word before it.
    var check: UInt32 = 0

    /// A rotate-and-xor over every word of the record in RAM but `check` (read in place, so
    /// padding bytes count as they are and a copy cannot change the result).
    static func checksum(at record: UnsafePointer<ResetRecord>) -> UInt32 {
        let words = UnsafeRawPointer(record)
        var sum: UInt32 = 0x5A5A_5A5A
        for index in 0..<(MemoryLayout<ResetRecord>.offset(of: \.check)! / 4) {
            sum = (sum &<< 5 | sum &>> 27) ^ words.load(fromByteOffset: index &* 4, as: UInt32.self)
        }
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
        // Folded away when true: the layout planner reserves 128 bytes for the record.
        precondition(MemoryLayout<ResetRecord>.size <= 128, "the reset record must fit its 128 bytes")
        let record = self.record
        let valid = (record.pointee.magic == ResetRecord.pending || record.pointee.magic == ResetRecord.reported)
            && record.pointee.check == ResetRecord.checksum(at: record)
        guard valid else {
            record.initialize(to: ResetRecord())
            seal(magic: ResetRecord.reported)
            return
        }
        guard record.pointee.magic == ResetRecord.pending else { return }
        Console.write("keel:previous-boot task=")
        writeName(&record.pointee.name)
        Faults.writeFields(record.pointee.fault)
        if record.pointee.cause[0] != 0 {
            Console.write(" by=")
            writeName(&record.pointee.cause)
        }
        Console.write(" resets=")
        Console.write(decimal: record.pointee.resets)
        Console.write("\n")
        seal(magic: ResetRecord.reported)
    }

    /// Resets the kernel made since power-on (0 after a cold boot).
    static var resets: UInt32 { record.pointee.resets }

    /// Keeps `fault` for the next boot.
    static func keep(_ fault: FaultReport) {
        let record = self.record
        record.pointee.resets &+= 1
        record.pointee.fault = fault.stored
        copy(fault.task?.pointee.name ?? "handler", to: &record.pointee.name)
        copy(fault.cause?.pointee.name ?? "", to: &record.pointee.cause)
        seal(magic: ResetRecord.pending)
    }

    private static func copy(_ name: StaticString, to field: inout InlineArray<28, UInt8>) {
        field = InlineArray<28, UInt8>(repeating: 0)
        name.withUTF8Buffer { bytes in
            for index in 0..<min(bytes.count, 27) { field[index] = bytes[index] }
        }
    }

    private static func writeName(_ field: inout InlineArray<28, UInt8>) {
        withUnsafePointer(to: &field) { name in
            let bytes = UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self)
            var index = 0
            while index < 28 && bytes[index] != 0 { Console.put(bytes[index]); index &+= 1 }
        }
    }

    private static func seal(magic: UInt32) {
        record.pointee.magic = magic
        record.pointee.check = ResetRecord.checksum(at: record)
    }
}
