// TargetCRC: the CRC-32 a GDB stub computes for `qCRC:addr,length`, computed here to compare.
//
// It is GDB's own (libiberty's xcrc32, which `compare-sections` uses): polynomial 0x04c11db7,
// initial value 0xffffffff, bits taken most significant first, no reflection, no final XOR.
// That is not the zlib CRC-32 (reflected, final XOR), so Foundation's or zlib's would not match.

public enum TargetCRC {
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index) << 24
        for _ in 0..<8 { value = value & 0x8000_0000 != 0 ? (value << 1) ^ 0x04C1_1DB7 : value << 1 }
        return value
    }

    public static func checksum(_ bytes: some Sequence<UInt8>, initial: UInt32 = 0xFFFF_FFFF) -> UInt32 {
        bytes.reduce(initial) { crc, byte in (crc << 8) ^ table[Int((crc >> 24) ^ UInt32(byte))] }
    }
}
