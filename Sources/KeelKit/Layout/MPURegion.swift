// MPU regions: what each MPU allows, and the register words the kernel writes for a region.
//
// Two protected memory system architectures, with different rules:
// - PMSAv7 (ARMv7-M, Cortex-M3; DDI 0403E B3.5): a region is a power of two from 32 bytes
//   up, based on a multiple of its size. Regions of 256 bytes or more have 8 equal
//   sub-regions, each of which can be disabled (SRD). Regions may overlap; for an address
//   in several, the highest-numbered region decides. AP=000 is "no access" for everyone.
// - PMSAv8 (ARMv8-M, Cortex-M33; DDI 0553 B10): a region is [base, limit] on a 32-byte
//   granule, any size. An address in two enabled regions faults, so regions must not
//   overlap. There is no "no access" permission: AP=10 (read-only, privileged) makes every
//   write fault, which is what a stack guard needs (an overflow writes).
// Keel enables the MPU with PRIVDEFENA: addresses in no region keep the default memory map,
// so regions are only needed where access must be taken away (or, on PMSAv7, given back).

public enum MPUAccess: String, Sendable, Codable {
    /// Every access faults (PMSAv7 AP=000); on PMSAv8 every write faults (AP=10, XN).
    case noAccess = "no-access"
    case readWrite = "read-write"
}

public struct MPURegion: Sendable, Equatable, Codable {
    /// The region number the kernel programs.
    public var number: Int
    public var base: UInt32
    /// Bytes from `base`: on PMSAv7 the region's power-of-two size, sub-regions included.
    public var size: UInt32
    /// PMSAv7 SRD: bit n set disables sub-region n (the n-th eighth of the region).
    public var disabledSubregions: UInt8
    public var access: MPUAccess
    /// What the region is for, shown by `keel layout`.
    public var purpose: String

    public init(number: Int, base: UInt32, size: UInt32, disabledSubregions: UInt8 = 0, access: MPUAccess, purpose: String) {
        self.number = number
        self.base = base
        self.size = size
        self.disabledSubregions = disabledSubregions
        self.access = access
        self.purpose = purpose
    }

    /// The address ranges the region actually applies to (enabled sub-regions only).
    public var covered: [Range<UInt64>] {
        guard disabledSubregions != 0 else { return [UInt64(base)..<UInt64(base) + UInt64(size)] }
        let eighth = UInt64(size / 8)
        var ranges: [Range<UInt64>] = []
        for index in 0..<8 where disabledSubregions & (1 << index) == 0 {
            let start = UInt64(base) + UInt64(index) * eighth
            if let last = ranges.last, last.upperBound == start {
                ranges[ranges.count - 1] = last.lowerBound..<start + eighth
            } else {
                ranges.append(start..<start + eighth)
            }
        }
        return ranges
    }

    public func covers(_ address: UInt64) -> Bool { covered.contains { $0.contains(address) } }

    /// The two words the kernel writes: PMSAv7 (RBAR, RASR) or PMSAv8 (RBAR, RLAR).
    public func registerWords(for mpu: MPUKind) -> [UInt32] {
        switch mpu {
        case .pmsav7: PMSAv7.words(self)
        case .pmsav8: PMSAv8.words(self)
        case .none: [0, 0]
        }
    }
}

/// PMSAv7 encodings and rules (ARMv7-M B3.5.8 RBAR, B3.5.9 RASR).
public enum PMSAv7 {
    /// RBAR.VALID: the write also selects the region in RBAR.REGION.
    static let valid: UInt32 = 1 << 4
    /// Normal memory, shareable, write-through (TEX=000, S=1, C=1, B=0): the usual SRAM attributes.
    static let sramAttributes: UInt32 = (1 << 18) | (1 << 17)
    static let executeNever: UInt32 = 1 << 28

    public static func words(_ region: MPURegion) -> [UInt32] {
        let sizeField = UInt32(region.size.trailingZeroBitCount - 1)  // size = 2^(SIZE+1)
        let accessField: UInt32 = region.access == .readWrite ? 0b011 : 0b000  // full access / no access
        let rasr = executeNever | (accessField << 24) | sramAttributes
            | (UInt32(region.disabledSubregions) << 8) | (sizeField << 1) | 1
        return [region.base | valid | UInt32(region.number), rasr]
    }

    /// The words that switch region `number` off (RASR.ENABLE = 0).
    public static func disabledWords(number: Int) -> [UInt32] { [valid | UInt32(number), 0] }

    /// Every rule of the architecture a region must meet; nil when it meets them.
    public static func violation(_ region: MPURegion) -> String? {
        let size = region.size
        if size < 32 || size & (size - 1) != 0 { return "size \(size) is not a power of two of at least 32" }
        if region.base % size != 0 { return "base \(hex(region.base)) is not a multiple of its size \(size)" }
        if region.disabledSubregions != 0 && size < 256 { return "sub-regions disabled in a region smaller than 256 bytes" }
        return nil
    }

    /// The smallest region size that can hold `bytes` (sub-regions then trim it to eighths).
    public static func regionSize(for bytes: UInt32) -> UInt32 {
        var size: UInt32 = 32
        while size < bytes { size <<= 1 }
        return size
    }
}

/// PMSAv8 encodings and rules (ARMv8-M B10.1 MPU_RBAR, MPU_RLAR).
public enum PMSAv8 {
    public static let granule: UInt32 = 32

    public static func words(_ region: MPURegion) -> [UInt32] {
        // RBAR: BASE[31:5], SH=00, AP[2:1] (01 read-write any, 10 read-only privileged), XN.
        let accessField: UInt32 = region.access == .readWrite ? 0b01 : 0b10
        let rbar = region.base | (accessField << 1) | 1
        // RLAR: LIMIT[31:5] (the last granule, inclusive), AttrIndx=0 (MAIR0 attribute 0), EN.
        let rlar = ((region.base &+ region.size &- granule) & ~(granule - 1)) | 1
        return [rbar, rlar]
    }

    public static let disabledWords: [UInt32] = [0, 0]

    public static func violation(_ region: MPURegion) -> String? {
        if region.size == 0 { return "empty region" }
        if region.base % granule != 0 { return "base \(hex(region.base)) is not on a 32-byte granule" }
        if region.size % granule != 0 { return "size \(region.size) is not a multiple of 32" }
        if region.disabledSubregions != 0 { return "PMSAv8 has no sub-regions" }
        return nil
    }
}

public enum MPUModel {
    /// What a privileged access to `address` is allowed under the enabled `regions`
    /// (PRIVDEFENA: no region means the default map, read-write). On PMSAv8 an address in
    /// two regions faults; on PMSAv7 the highest number wins.
    public static func access(at address: UInt64, regions: [MPURegion], mpu: MPUKind) -> MPUAccess {
        let hits = regions.filter { $0.covers(address) }
        guard let winner = hits.max(by: { $0.number < $1.number }) else { return .readWrite }
        if mpu == .pmsav8 && hits.count > 1 { return .noAccess }
        return winner.access
    }

    public static func violation(_ region: MPURegion, mpu: MPUKind) -> String? {
        switch mpu {
        case .pmsav7: PMSAv7.violation(region)
        case .pmsav8: PMSAv8.violation(region)
        case .none: "this board has no MPU"
        }
    }
}
