// Would the MPU have let a privileged write through? Decided from the region registers as
// they are at the fault, before the kernel changes them.
//
// Containment uses it to tell what an overflow could have written: a write the MPU refused
// wrote nothing, so a neighbour whose stack lay only where every write was refused is not a
// victim. Tasks and the kernel run privileged with PRIVDEFENA (Hardware/MPU.swift): where no
// region applies, the default memory map lets a privileged write through.
//
// Shared with the host (the KeelContract target), where it is tested on synthetic registers.
// Reference: ARMv7-M B3.5.8-B3.5.9 (PMSAv7 RBAR/RASR), ARMv8-M B10.2 (PMSAv8 RBAR/RLAR).

/// Which MPU a board has (`Board.mpu` on the host).
@_spi(Contract) public enum MPUArchitecture: UInt8, Sendable {
    case none = 0
    /// Power-of-two regions with sub-region disable bits; the highest matching number wins.
    case pmsav7 = 1
    /// Base/limit regions on 32-byte granules; an address two regions match faults.
    case pmsav8 = 2
}

/// One region as read back: RBAR, then RASR (PMSAv7) or RLAR (PMSAv8).
@_spi(Contract) public struct MPURegionRegisters: Sendable {
    public var base: UInt32
    public var attributes: UInt32
    @_spi(Contract) public init(base: UInt32, attributes: UInt32) { self.base = base; self.attributes = attributes }
}

@_spi(Contract) public enum MPUPermission {
    /// The smallest granule either MPU can tell apart: a PMSAv7 sub-region of a 256-byte region,
    /// a PMSAv8 region's alignment. Permission is the same for every byte of an aligned granule.
    public static let granule: UInt32 = 32

    /// True when a privileged write to `address` passes the MPU described by `region(0..<count)`.
    public static func permitsPrivilegedWrite(_ address: UInt32, architecture: MPUArchitecture, enabled: Bool,
                                              regionCount: Int, region: (Int) -> MPURegionRegisters) -> Bool {
        guard enabled else { return true }
        switch architecture {
        case .none: return true
        case .pmsav7:
            // The highest-numbered region that matches decides.
            var number = regionCount
            while number > 0 {
                number -= 1
                let registers = region(number)
                if pmsav7Matches(registers, address) { return pmsav7PrivilegedWritable(registers.attributes) }
            }
            return true  // background: PRIVDEFENA
        case .pmsav8:
            var matches = 0
            var writable = true
            for number in 0..<regionCount {
                let registers = region(number)
                guard registers.attributes & 1 != 0 else { continue }  // RLAR.EN
                let base = registers.base & ~0x1F
                let limit = registers.attributes | 0x1F
                guard address >= base && address <= limit else { continue }
                matches += 1
                // RBAR.AP[2:1]: 0b00 read-write privileged, 0b01 read-write any, 0b1x read-only.
                writable = (registers.base >> 1) & 0b11 < 0b10
            }
            if matches > 1 { return false }  // overlapping regions fault on PMSAv8
            return matches == 0 || writable
        }
    }

    /// RASR.ENABLE and the address inside the region, in a sub-region that is not disabled.
    static func pmsav7Matches(_ registers: MPURegionRegisters, _ address: UInt32) -> Bool {
        let attributes = registers.attributes
        guard attributes & 1 != 0 else { return false }
        let sizeField = (attributes >> 1) & 0x1F
        guard sizeField >= 4 else { return false }  // below 32 bytes is UNPREDICTABLE: treat as no region
        let size: UInt64 = 1 << UInt64(sizeField + 1)
        let base = UInt64(registers.base & ~0x1F) & ~(size - 1)
        let offset = UInt64(address) &- base
        guard UInt64(address) >= base && offset < size else { return false }
        if size >= 256 {
            let subregion = offset / (size / 8)
            if (attributes >> 8) & (1 << UInt32(subregion)) != 0 { return false }  // RASR.SRD
        }
        return true
    }

    /// RASR.AP (bits 26:24): 0b000 no access; 0b001-0b011 privileged read-write; read-only above.
    static func pmsav7PrivilegedWritable(_ attributes: UInt32) -> Bool {
        let access = (attributes >> 24) & 0b111
        return access >= 0b001 && access <= 0b011
    }

    /// Bytes of [start, end) a privileged write could reach, granule by granule.
    public static func writableBytes(from start: UInt32, to end: UInt32, _ permits: (UInt32) -> Bool) -> UInt32 {
        var count: UInt32 = 0
        var address = start
        while address < end {
            let last = address | (granule &- 1)  // the granule's last byte
            let next = last >= end &- 1 ? end : last &+ 1  // the next granule, or the end
            if permits(address) { count &+= next &- address }
            address = next
        }
        return count
    }
}
