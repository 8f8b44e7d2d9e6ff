// FlashLoader: loads an image through any GDB stub as GDB's `load` does, checks it, and starts it.
//
// Why not call GDB: `keel flash` is one step in a script or a test, with one report and a
// typed error, and the protocol is small. What it does, in GDB's order:
// 1. Asks the stub what it takes (GDBStubFeatures): packet size, memory map, register numbers.
// 2. Writes each segment at its load address. Memory the map calls flash is erased
//    (`vFlashErase`, whole erase blocks), written (`vFlashWrite`) and committed (`vFlashDone`):
//    OpenOCD, pyOCD and probe-rs program the part's flash behind those packets. Other memory
//    is written with `X` (binary, escaped) or, when the stub answers `X` with an empty packet
//    (QEMU does), with `M` (hex, twice the bytes). Every packet fits the stub's PacketSize.
// 3. Verifies each written range: `qCRC` against the same CRC computed here (GDB's
//    `compare-sections`), or by reading it back with `m` when the stub has no `qCRC`. A
//    mismatch is read back to name the first address that differs.
// 4. Starts the image as a reset would: SP and PC from the vector table, xPSR with only the
//    Thumb bit (a Cortex-M core faults on its first instruction without it), VTOR pointed at the
//    table on a core that has one. Then continues (`c`) and closes the connection; or, with
//    `halt`, only closes it, and the core waits at the reset handler for gdb. Not `D`: OpenOCD
//    leaves a target halted on detach unless its configuration says `resume`.
// It does not reset the part's peripherals: a board that ran something else keeps the
// peripheral state it left (`monitor reset halt` in gdb, or the probe's own reset, first).

import Foundation

public final class FlashLoader {
    public let target: GDBRemote
    public let features: GDBStubFeatures
    /// Whether the stub takes `X`; nil until the first write asks.
    public private(set) var takesBinaryWrites: Bool? = nil
    /// Whether the stub answers `qCRC`; nil until the first verification asks.
    public private(set) var computesCRC: Bool? = nil

    /// The Cortex-M Vector Table Offset Register (ARMv7-M/ARMv8-M; not on the ARMv6-M parts Keel runs on).
    public static let vectorTableOffsetRegister: UInt32 = 0xE000_ED08
    /// xPSR after reset: only T, the Thumb state bit.
    public static let resetStatus: UInt32 = 0x0100_0000
    /// Seconds a flash erase or write may take: erasing a megabyte of flash takes many seconds
    /// on some parts, far longer than any memory read.
    public static let flashTimeout: Double = 120

    /// Opens the load on a halted target: asks the stub what it supports.
    public init(target: GDBRemote) throws(KeelError) {
        self.target = target
        features = try GDBStubFeatures.query(target)
    }

    /// What to start when nothing listens on `port`: QEMU empty and halted with the flags
    /// `keel run` gives it (the UART on the terminal, semihosting for the exit), or a probe's server.
    public static func startHint(board: Board, port: UInt16) -> String {
        "start a GDB server there first: `qemu-system-arm -M \(board.qemuMachine) -nographic -semihosting-config enable=on,target=native "
            + "-S -gdb tcp::\(port)` (QEMU, empty and halted), `openocd -f interface/stlink.cfg -f target/stm32f4x.cfg` (port 3333), "
            + "`pyocd gdbserver -t nrf51` (port 3333) or `probe-rs gdb --chip CHIP` (port 1337)"
    }

    /// Writes, verifies and starts `image`; `setsVectorTable` for a core with VTOR. A load that
    /// fails leaves the target halted (the connection closes without detaching), so half an
    /// image never runs.
    public func load(_ image: LoadableImage, setsVectorTable: Bool, halt: Bool) throws(KeelError) -> FlashReport {
        do {
            return try loadAndStart(image, setsVectorTable: setsVectorTable, halt: halt)
        } catch {
            target.disconnect()
            throw error
        }
    }

    func loadAndStart(_ image: LoadableImage, setsVectorTable: Bool, halt: Bool) throws(KeelError) -> FlashReport {
        guard let reset = image.resetVector else { throw .elf("nothing is loaded at the vector table (\(hex(image.vectorTable)))") }
        let pieces = Self.pieces(image, flash: features.flash)
        let start = Date()
        var rows: [FlashReport.Row] = []
        let flashPieces = pieces.filter(\.inFlash)
        if !flashPieces.isEmpty { try programFlash(flashPieces) }
        for segment in image.segments {
            var method = FlashReport.WriteMethod.flash
            for piece in pieces where piece.segment == segment.index && !piece.inFlash {
                method = try writeMemory(piece.address, piece.bytes[...])
            }
            rows.append(FlashReport.Row(segment: segment.name, address: segment.address, bytes: segment.bytes.count, method: method))
        }
        let seconds = Date().timeIntervalSince(start)
        for piece in pieces { try verify(piece, segment: image.segments.first { $0.index == piece.segment }!) }

        try writeRegister(features.registers.stackPointer, reset.stackPointer, name: "SP")
        try writeRegister(features.registers.programCounter, reset.resetHandler & ~1, name: "PC")
        try writeRegister(features.registers.statusRegister, Self.resetStatus, name: "xPSR")
        var vectorTableSet: UInt32? = nil
        if setsVectorTable, try target.readWords(Self.vectorTableOffsetRegister, count: 1).first != image.vectorTable {
            try target.write(Self.vectorTableOffsetRegister, bytes: Self.littleEndian(image.vectorTable))
            vectorTableSet = image.vectorTable
        }
        if !halt { try target.resume() }
        target.disconnect()
        return FlashReport(endpoint: target.endpoint.description, rows: rows, seconds: seconds,
                           verification: computesCRC == true ? .crc : .readBack,
                           stackPointer: reset.stackPointer, resetHandler: reset.resetHandler,
                           vectorTable: vectorTableSet, halted: halt)
    }

    // MARK: Writing

    /// A run of a segment's bytes that lies wholly in flash or wholly outside it.
    struct Piece: Equatable {
        var segment: Int
        var address: UInt32
        var bytes: [UInt8]
        var inFlash: Bool
        var end: UInt64 { UInt64(address) + UInt64(bytes.count) }
    }

    /// The segments cut at the borders of the memory map's flash regions.
    static func pieces(_ image: LoadableImage, flash: [StubMemoryRegion]) -> [Piece] {
        var pieces: [Piece] = []
        for segment in image.segments {
            var cuts: Set<UInt64> = [UInt64(segment.address), segment.end]
            for region in flash {
                for border in [UInt64(region.start), region.end] where border > UInt64(segment.address) && border < segment.end {
                    cuts.insert(border)
                }
            }
            let borders = cuts.sorted()
            for (low, high) in zip(borders, borders.dropFirst()) {
                let bytes = Array(segment.bytes[Int(low - UInt64(segment.address))..<Int(high - UInt64(segment.address))])
                let inFlash = flash.contains { UInt64($0.start) <= low && high <= $0.end }
                pieces.append(Piece(segment: segment.index, address: UInt32(low), bytes: bytes, inFlash: inFlash))
            }
        }
        return pieces
    }

    /// Erases the flash blocks the pieces touch, writes them, and commits (GDB's order).
    func programFlash(_ pieces: [Piece]) throws(KeelError) {
        let saved = target.timeout
        target.timeout = max(saved, Self.flashTimeout)
        defer { target.timeout = saved }
        for (start, length) in Self.eraseRanges(pieces, flash: features.flash) {
            let reply = try target.request("vFlashErase:\(String(start, radix: 16)),\(String(length, radix: 16))")
            guard reply == "OK" else { throw refused("erase \(length) bytes of flash at \(hex(start))", reply) }
        }
        for piece in pieces {
            var offset = 0
            while offset < piece.bytes.count {
                let address = piece.address &+ UInt32(offset)
                let header = Array("vFlashWrite:\(String(address, radix: 16)):".utf8)
                let count = Self.binaryChunk(piece.bytes[offset...], capacity: payloadCapacity - header.count)
                let reply = try target.request(bytes: header + piece.bytes[offset..<offset + count], what: "a flash write at \(hex(address))")
                guard reply == "OK" else { throw refused("write \(count) bytes of flash at \(hex(address))", reply) }
                offset += count
            }
        }
        let reply = try target.request("vFlashDone")
        guard reply == "OK" else { throw refused("finish programming flash (vFlashDone)", reply) }
    }

    /// The flash the pieces touch, widened to whole erase blocks of their regions and merged.
    static func eraseRanges(_ pieces: [Piece], flash: [StubMemoryRegion]) -> [(start: UInt32, length: UInt32)] {
        var ranges: [(start: UInt64, end: UInt64)] = []
        for piece in pieces {
            guard let region = flash.first(where: { UInt64($0.start) <= UInt64(piece.address) && piece.end <= $0.end }) else { continue }
            let block = UInt64(region.blockSize), base = UInt64(region.start)
            let start = base + (UInt64(piece.address) - base) / block * block
            let end = min(region.end, base + (piece.end - base + block - 1) / block * block)
            ranges.append((start, end))
        }
        var merged: [(start: UInt64, end: UInt64)] = []
        for range in ranges.sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, range.start <= last.end {
                merged[merged.count - 1].end = max(last.end, range.end)
            } else {
                merged.append(range)
            }
        }
        return merged.map { (UInt32($0.start), UInt32($0.end - $0.start)) }
    }

    /// Writes memory with `X`, or `M` once the stub has refused `X`; returns which it used.
    func writeMemory(_ address: UInt32, _ bytes: ArraySlice<UInt8>) throws(KeelError) -> FlashReport.WriteMethod {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let at = address &+ UInt32(offset - bytes.startIndex)
            if takesBinaryWrites != false {
                // The length field is written after the chunk is chosen: reserve its widest form.
                let header = "X\(String(at, radix: 16)),\(String(payloadCapacity, radix: 16)):".utf8.count
                let count = Self.binaryChunk(bytes[offset...], capacity: payloadCapacity - header)
                let reply = try target.request(bytes: Array("X\(String(at, radix: 16)),\(String(count, radix: 16)):".utf8) + bytes[offset..<offset + count],
                                               what: "a memory write at \(hex(at))")
                if reply == "OK" {
                    takesBinaryWrites = true
                    offset += count
                    continue
                }
                guard reply.isEmpty, takesBinaryWrites == nil else { throw refused("write \(count) bytes at \(hex(at))", reply) }
                takesBinaryWrites = false  // an empty reply: no `X` here; `M` from now on
            }
            let header = "M\(String(at, radix: 16)),\(String(payloadCapacity, radix: 16)):".utf8.count
            let count = min(bytes.endIndex - offset, (payloadCapacity - header) / 2)
            try target.write(at, bytes: Array(bytes[offset..<offset + count]))
            offset += count
        }
        return takesBinaryWrites == false ? .hex : .binary
    }

    /// Payload bytes a packet may carry: PacketSize less `$`, `#` and the two checksum digits.
    var payloadCapacity: Int { features.packetSize - 4 }

    /// How many of `bytes` fit in `capacity` payload bytes once escaped (at least one).
    static func binaryChunk(_ bytes: ArraySlice<UInt8>, capacity: Int) -> Int {
        var used = 0, count = 0
        for byte in bytes {
            let cost = GDBPacket.needsEscape(byte) ? 2 : 1
            guard used + cost <= capacity else { break }
            used += cost
            count += 1
        }
        return max(count, 1)
    }

    // MARK: Verifying

    /// Checks that the target holds `piece`'s bytes: by CRC when the stub computes one, else by
    /// reading them back; a difference names its first address.
    func verify(_ piece: Piece, segment: LoadableImage.Segment) throws(KeelError) {
        if computesCRC != false {
            let reply = try target.request("qCRC:\(String(piece.address, radix: 16)),\(String(piece.bytes.count, radix: 16))")
            if reply.isEmpty {
                computesCRC = false
            } else if reply.hasPrefix("C"), let crc = UInt32(reply.dropFirst(), radix: 16) {
                computesCRC = true
                if crc == TargetCRC.checksum(piece.bytes) { return }
            }
            // An `E..` reply, or a CRC that differs: the bytes themselves say where.
        }
        guard let held = try target.readIfAllowed(piece.address, count: piece.bytes.count) else {
            throw .debugTarget("cannot verify \(segment.name): the target at \(target.endpoint) refused to read back "
                + "\(piece.bytes.count) bytes at \(hex(piece.address))")
        }
        if let index = piece.bytes.indices.first(where: { $0 >= held.count || held[$0] != piece.bytes[$0] }) {
            let address = piece.address &+ UInt32(index)
            throw .debugTarget("verify failed at \(hex(address)): \(segment.name) wrote \(GDBPacket.hex([piece.bytes[index]])) there "
                + "but the target at \(target.endpoint) holds \(index < held.count ? GDBPacket.hex([held[index]]) : "nothing")"
                + (piece.inFlash ? " (is the flash write-protected?)" : " (is that memory read-only, or not there, on this part?)"))
        }
    }

    // MARK: Starting

    /// `P`, or `g`/`G` with the register replaced when the stub has no `P`.
    func writeRegister(_ number: Int, _ value: UInt32, name: String) throws(KeelError) {
        if try target.writeRegisterIfSupported(number, value) != nil { return }
        let all = try target.request("g")
        guard let offset = features.registers.offsetInAll(number), var bytes = GDBPacket.bytes(fromHex: all), bytes.count >= offset + 4 else {
            throw .debugTarget("the target at \(target.endpoint) lets no register be written (no `P`, and `g` has no \(name))")
        }
        bytes.replaceSubrange(offset..<offset + 4, with: Self.littleEndian(value))
        let reply = try target.request("G" + GDBPacket.hex(bytes))
        guard reply == "OK" else { throw refused("write \(name)", reply) }
    }

    func refused(_ action: String, _ reply: String) -> KeelError {
        .debugTarget("the target at \(target.endpoint) refused to \(action): "
            + (reply.isEmpty ? "not supported (an empty reply)" : "'\(KeelError.excerpt(reply))'"))
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}

/// What a load did: bytes per segment and how they went, the rate, the check, how the core starts.
public struct FlashReport: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var segment: String
        public var address: UInt32
        public var bytes: Int
        public var method: WriteMethod
    }

    /// How a segment's bytes went to the target.
    public enum WriteMethod: String, Sendable {
        case flash = "flash (vFlashWrite)"
        case binary = "memory writes (X, binary)"
        case hex = "memory writes (M, hex)"
    }

    /// How the written bytes were checked.
    public enum Verification: String, Sendable {
        /// The server's CRC-32 of each range (`qCRC`) matched the one computed here.
        case crc = "CRC-32 from the target, qCRC"
        case readBack = "read back with m"
    }

    public var endpoint: String
    public var rows: [Row]
    /// Seconds from the first erase or write to the last write.
    public var seconds: Double
    public var verification: Verification
    public var stackPointer: UInt32
    public var resetHandler: UInt32
    /// The value VTOR was set to; nil when it held the table's address already (or the core has none).
    public var vectorTable: UInt32?
    public var halted: Bool

    public var bytes: Int { rows.reduce(0) { $0 + $1.bytes } }

    public var lines: [String] {
        let width = rows.map(\.segment.count).max() ?? 0
        var lines = rows.map { row in
            row.segment.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(hex(row.address))  "
                + String(repeating: " ", count: max(0, 8 - String(row.bytes).count)) + "\(row.bytes) bytes  \(row.method.rawValue)"
        }
        let kilobytesPerSecond = seconds > 0 ? Double(bytes) / 1024 / seconds : 0
        lines.append(String(format: "%d bytes in %.2f s (%.1f KiB/s)", bytes, seconds, kilobytesPerSecond))
        lines.append("verified: every byte matches (\(verification.rawValue))")
        var start = "started at the reset handler \(hex(resetHandler)) with SP \(hex(stackPointer))"
        if let table = vectorTable { start += ", VTOR \(hex(table))" }
        lines.append(start + (halted ? "; halted there: attach with keel debug --gdb \(endpoint) and the same --app or --elf" : "; running"))
        return lines
    }
}
