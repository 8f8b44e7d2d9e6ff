// keel flash's loader against a scripted GDB stub that keeps a memory: binary writes escaped and
// cut to the stub's PacketSize, the fall-back to hex writes, flash the memory map names erased and
// programmed through vFlash packets, a verification that names the first wrong address, and the
// reset registers in the stub's own numbering. Also the pieces it is made of: GDB's CRC, the
// stub's features and memory map, an ELF whose segments fall outside the board.

import Foundation
@testable import KeelKit
import XCTest

final class FlashLoaderTests: XCTestCase {
    /// A vector table (SP, reset handler) and code in flash, data in RAM; the code holds every
    /// byte that needs escaping, runs of them, and the rest of the byte values.
    static let image = LoadableImage(segments: [
        .init(index: 0, address: 0x0, bytes: FlashLoader.littleEndian(0x2000_1000) + FlashLoader.littleEndian(0x0000_0101)
              + (0..<1500).map { UInt8(truncatingIfNeeded: $0 * 7) } + [0x23, 0x24, 0x7D, 0x2A, 0x2A, 0x2A, 0x7D], sections: [".vectors", ".text"]),
        .init(index: 2, address: 0x2000_0000, bytes: (0..<700).map { UInt8(truncatingIfNeeded: 0x20 + $0) }, sections: [".data"]),
    ], vectorTable: 0)

    func testBinaryWritesEscapeFramingBytesAndFitThePacketSize() throws {
        let target = FakeTarget(packetSize: 0x100)
        let (stub, report) = try load(Self.image, into: target)
        XCTAssertEqual(target.memory(at: 0, count: Self.image.segments[0].bytes.count), Self.image.segments[0].bytes)
        XCTAssertEqual(target.memory(at: 0x2000_0000, count: 700), Self.image.segments[1].bytes)

        let writes = stub.raw.filter { $0.first == UInt8(ascii: "X") }
        XCTAssertGreaterThan(writes.count, 9, "2.2 KB in packets of at most 256 bytes")
        var sentToFlash: [UInt8] = []
        for packet in writes {
            XCTAssertLessThanOrEqual(packet.count + 4, 0x100, "`$`, data, `#` and checksum fit PacketSize")
            let data = Array(packet[(packet.firstIndex(of: UInt8(ascii: ":"))! + 1)...])
            XCTAssertFalse(data.contains { $0 == 0x23 || $0 == 0x24 || $0 == 0x2A }, "framing bytes and `*` go escaped")
            for index in data.indices where data[index] == 0x7D && (index == 0 || data[index - 1] != 0x7D) {
                XCTAssertTrue(index + 1 < data.count && [0x03, 0x04, 0x5D, 0x0A].contains(data[index + 1]), "an escape is never cut from its byte")
            }
            if packet.starts(with: Array("X0,".utf8)) || !packet.starts(with: Array("X2".utf8)) { sentToFlash += data }
        }
        // 0x23 0x24 0x7d 0x2a as `}` and the byte XOR 0x20.
        let escaped: [UInt8] = [0x7D, 0x03, 0x7D, 0x04, 0x7D, 0x5D, 0x7D, 0x0A, 0x7D, 0x0A, 0x7D, 0x0A, 0x7D, 0x5D]
        XCTAssertTrue(sentToFlash.indices.contains { sentToFlash[$0...].starts(with: escaped) }, "the run of special bytes is sent escaped")
        // Each packet says how many bytes it carries, and they follow on from the one before.
        var next: UInt32 = 0
        for packet in stub.bytes where packet.first == UInt8(ascii: "X") {
            let header = String(decoding: packet.prefix { $0 != UInt8(ascii: ":") }.dropFirst(), as: UTF8.self).split(separator: ",")
            let address = UInt32(header[0], radix: 16)!, count = Int(header[1], radix: 16)!
            if address < 0x2000_0000 { XCTAssertEqual(address, next); next += UInt32(count) }
            XCTAssertEqual(packet.count, header.joined(separator: ",").utf8.count + 2 + count)
        }
        XCTAssertEqual(Int(next), Self.image.segments[0].bytes.count)

        XCTAssertEqual(report.rows.map(\.method), [.binary, .binary])
        XCTAssertEqual(report.verification, .readBack)
        // The description numbers xPSR 16 (as OpenOCD and pyOCD do), not GDB's old 25.
        XCTAssertEqual(target.registers, [13: 0x2000_1000, 15: 0x100, 16: 0x0100_0000])
        XCTAssertEqual(lastPacket(stub), "c", "continued: the target runs (OpenOCD would leave it halted after `D`)")
        XCTAssertFalse(stub.received.contains("D"))
        XCTAssertEqual(report.lines.last, "started at the reset handler 0x00000101 with SP 0x20001000; running")
    }

    func testHexWritesWhenTheStubRefusesBinaryOnes() throws {
        let target = FakeTarget(packetSize: 0x200, takesX: false, describesRegisters: false)
        let (stub, report) = try load(Self.image, into: target, halt: true)
        XCTAssertEqual(target.memory(at: 0, count: Self.image.segments[0].bytes.count), Self.image.segments[0].bytes)
        XCTAssertEqual(target.memory(at: 0x2000_0000, count: 700), Self.image.segments[1].bytes)
        XCTAssertEqual(stub.received.filter { $0.hasPrefix("X") }.count, 1, "asked once; `M` from then on")
        let hexWrites = stub.raw.filter { $0.first == UInt8(ascii: "M") }
        XCTAssertGreaterThan(hexWrites.count, 8)
        for packet in hexWrites { XCTAssertLessThanOrEqual(packet.count + 4, 0x200) }
        XCTAssertEqual(report.rows.map(\.method), [.hex, .hex])
        XCTAssertEqual(target.registers, [13: 0x2000_1000, 15: 0x100, 25: 0x0100_0000], "GDB's ARM numbering without a description")
        XCTAssertEqual(lastPacket(stub), "P19=00000001", "--halt: the connection closes after the registers, neither `c` nor `D`")
        XCTAssertTrue(report.lines.last?.hasSuffix("halted there: attach with keel debug --gdb \(stub.path) and the same --app or --elf") ?? false, "\(report.lines)")
    }

    func testFlashInTheMemoryMapIsErasedWrittenAndCommittedThroughVFlash() throws {
        let target = FakeTarget(packetSize: 0x180, flash: StubMemoryRegion(kind: "flash", start: 0, length: 0x1_0000, blockSize: 0x400),
                                computesCRC: true)
        let (stub, report) = try load(Self.image, into: target)
        XCTAssertEqual(target.memory(at: 0, count: Self.image.segments[0].bytes.count), Self.image.segments[0].bytes)
        XCTAssertEqual(target.memory(at: 0x2000_0000, count: 700), Self.image.segments[1].bytes)
        let flashPackets = stub.received.filter { $0.hasPrefix("vFlash") }
        XCTAssertEqual(flashPackets.first, "vFlashErase:0,800", "1.5 KB widened to two whole 1 KiB blocks")
        XCTAssertEqual(flashPackets.last, "vFlashDone")
        XCTAssertEqual(flashPackets.filter { $0.hasPrefix("vFlashWrite:") }.count, flashPackets.count - 2)
        for packet in stub.raw where packet.starts(with: Array("vFlashWrite:".utf8)) { XCTAssertLessThanOrEqual(packet.count + 4, 0x180) }
        XCTAssertFalse(stub.received.contains { $0.hasPrefix("X0,") || $0.hasPrefix("M0,") }, "flash is not written as memory")
        XCTAssertEqual(report.rows.map(\.method), [.flash, .binary])
        XCTAssertEqual(report.verification, .crc)
        XCTAssertEqual(stub.received.filter { $0.hasPrefix("qCRC:") }, ["qCRC:0,5eb", "qCRC:20000000,2bc"])
        XCTAssertFalse(stub.received.contains { $0.hasPrefix("m") }, "the CRCs matched: nothing read back")
    }

    func testAVerifyFailureNamesTheFirstAddressThatDiffers() throws {
        for computesCRC in [false, true] {
            let target = FakeTarget(packetSize: 0x400, computesCRC: computesCRC, stuckAddress: 0x2000_0123)
            XCTAssertThrowsError(try load(Self.image, into: target)) { error in
                XCTAssertEqual((error as? KeelError)?.description,
                               "verify failed at 0x20000123: segment 2 (.data) wrote 43 there but the target at \(target.path ?? "") holds 00 "
                               + "(is that memory read-only, or not there, on this part?)", "qCRC: \(computesCRC)")
            }
            XCTAssertTrue(target.registers.isEmpty, "a failed load does not start the core")
        }
    }

    func testTheCRCIsGDBs() {
        // CRC-32/MPEG-2's check value: libiberty's xcrc32 of "123456789" from 0xffffffff.
        XCTAssertEqual(TargetCRC.checksum(Array("123456789".utf8)), 0x0376_E6E7)
        XCTAssertEqual(TargetCRC.checksum([]), 0xFFFF_FFFF)
    }

    func testStubFeaturesMemoryMapAndRegisterNumbers() {
        let qemu = GDBStubFeatures(supported: "PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+")
        XCTAssertEqual(qemu.packetSize, 4096)
        XCTAssertTrue(qemu.hasTargetDescription)
        XCTAssertFalse(qemu.hasMemoryMap)
        let openOCD = GDBStubFeatures(supported: "PacketSize=4000;qXfer:memory-map:read+;qXfer:features:read+;QStartNoAckMode+")
        XCTAssertEqual(openOCD.packetSize, 0x4000)
        XCTAssertTrue(openOCD.hasMemoryMap)
        XCTAssertEqual(GDBStubFeatures(supported: "").packetSize, GDBStubFeatures.defaultPacketSize)

        let map = """
            <?xml version="1.0"?>
            <memory-map>
            <memory type="ram" start="0x20000000" length="0x20000"/>
            <memory type="flash" start="0x08000000" length="0x10000">
              <property name="blocksize">0x4000</property>
            </memory>
            <memory type='flash' start='0x08010000' length='0xf0000'><property name="blocksize">0x20000</property></memory>
            </memory-map>
            """
        XCTAssertEqual(StubMemoryRegion.regions(inMap: map), [
            StubMemoryRegion(kind: "ram", start: 0x2000_0000, length: 0x2_0000),
            StubMemoryRegion(kind: "flash", start: 0x0800_0000, length: 0x1_0000, blockSize: 0x4000),
            StubMemoryRegion(kind: "flash", start: 0x0801_0000, length: 0xF_0000, blockSize: 0x2_0000),
        ])

        // QEMU's M-profile feature (xpsr regnum 25) and OpenOCD's (numbered in order: xPSR 16).
        let qemuRegisters = StubRegisters(description: (0..<13).map { "<reg name=\"r\($0)\" bitsize=\"32\"/>" }.joined()
            + "<reg name=\"sp\" bitsize=\"32\" type=\"data_ptr\"/><reg name=\"lr\" bitsize=\"32\"/><reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\"/>"
            + "<reg name=\"xpsr\" bitsize=\"32\" regnum=\"25\"/>")
        XCTAssertEqual([qemuRegisters.stackPointer, qemuRegisters.programCounter, qemuRegisters.statusRegister], [13, 15, 25])
        XCTAssertEqual(qemuRegisters.offsetInAll(25), 64, "the g packet has no gap where 16-24 are not described")
        let openOCDRegisters = StubRegisters(description: FakeTarget.description)
        XCTAssertEqual([openOCDRegisters.stackPointer, openOCDRegisters.programCounter, openOCDRegisters.statusRegister], [13, 15, 16])
        XCTAssertEqual(StubRegisters.legacy.offsetInAll(25), 164, "GDB's old ARM g packet: eight 12-byte FPA registers and fps before cpsr")
    }

    func testSegmentsOutsideTheBoardsMemoryAreNamed() throws {
        var tiny = TinyARMImage()
        let elf = try ELFFile(bytes: tiny.bytes())
        let board = try BoardCatalog.board(named: "mps2-an505")
        XCTAssertThrowsError(try LoadableImage(elf: elf, board: board)) { error in
            XCTAssertEqual((error as? KeelError)?.exitCode, 2)
            XCTAssertTrue("\(error)".hasPrefix("bad ELF image: segment 0 (.text) loads 18 bytes at 0x00000100-0x00000111, outside mps2-an505's flash "
                + "(0x10000000-0x103fffff) and RAM (0x38000000-0x381fffff); was the image built for another board?"), "\(error)")
        }
        XCTAssertThrowsError(try LoadableImage(elf: elf, board: try BoardCatalog.board(named: "mps2-an385"))) { error in
            XCTAssertEqual("\(error)", "bad ELF image: no vector table to start from: nothing is loaded at 0x00000000, where SP and the reset handler's address must be")
        }
    }

    func testNothingListeningSaysWhatToStart() throws {
        let board = try BoardCatalog.board(named: "mps2-an385")
        XCTAssertThrowsError(try GDBRemote(connectingTo: .tcp(host: "127.0.0.1", port: 1), timeout: 1,
                                           startHint: FlashLoader.startHint(board: board, port: 1))) { error in
            XCTAssertTrue("\(error)".contains("`qemu-system-arm -M mps2-an385 -nographic -semihosting-config enable=on,target=native -S -gdb tcp::1`"), "\(error)")
            XCTAssertTrue("\(error)".contains("`probe-rs gdb --chip CHIP` (port 1337)"), "\(error)")
        }
    }

    /// The last packet the stub got, once the connection has closed (`c` has no reply to wait for).
    func lastPacket(_ stub: FakeStub) -> String? {
        let deadline = Date().addingTimeInterval(2)
        while !stub.isClosed && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return stub.received.last
    }

    /// Loads `image` through a FakeStub that serves `target`.
    func load(_ image: LoadableImage, into target: FakeTarget, halt: Bool = false) throws -> (FakeStub, FlashReport) {
        let stub = try FakeStub(replyToBytes: { target.reply($0) })
        target.path = stub.path
        let remote = try GDBRemote(connectingTo: .unixSocket(path: stub.path), timeout: 2)
        defer { remote.close() }
        let report = try FlashLoader(target: remote).load(image, setsVectorTable: false, halt: halt)
        return (stub, report)
    }
}

/// A target behind a GDB stub: byte memory, flash that must be erased before it is written,
/// registers, and the stub's choices (packet size, `X`, a description, a map, `qCRC`). A
/// `stuckAddress` keeps 0 whatever is written there.
final class FakeTarget: @unchecked Sendable {
    let packetSize: Int
    let takesX: Bool
    let describesRegisters: Bool
    let flash: StubMemoryRegion?
    let computesCRC: Bool
    let stuckAddress: UInt32?
    var path: String? = nil
    private let lock = NSLock()
    private var bytes: [UInt32: UInt8] = [:]
    private var erased: Set<UInt32> = []
    private var written: [Int: UInt32] = [:]

    /// OpenOCD's way: r0-r12, sp, lr, pc, then xPSR, numbered in order.
    static let description = (0..<13).map { "<reg name=\"r\($0)\" bitsize=\"32\" type=\"int\" group=\"general\"/>" }.joined()
        + "<reg name=\"sp\" bitsize=\"32\"/><reg name=\"lr\" bitsize=\"32\"/><reg name=\"pc\" bitsize=\"32\"/><reg name=\"xPSR\" bitsize=\"32\"/>"

    init(packetSize: Int, takesX: Bool = true, describesRegisters: Bool = true, flash: StubMemoryRegion? = nil,
         computesCRC: Bool = false, stuckAddress: UInt32? = nil) {
        self.packetSize = packetSize
        self.takesX = takesX
        self.describesRegisters = describesRegisters
        self.flash = flash
        self.computesCRC = computesCRC
        self.stuckAddress = stuckAddress
    }

    var registers: [Int: UInt32] { lock.withLock { written } }

    func memory(at address: UInt32, count: Int) -> [UInt8] {
        lock.withLock { (0..<UInt32(count)).map { bytes[address + $0] ?? 0 } }
    }

    func reply(_ packet: [UInt8]) -> String? {
        lock.withLock { answer(packet) }
    }

    private func store(_ data: ArraySlice<UInt8>, at address: UInt32) {
        for (offset, byte) in data.enumerated() where UInt32(offset) + address != stuckAddress { bytes[address + UInt32(offset)] = byte }
    }

    private func inFlash(_ address: UInt32) -> Bool {
        flash.map { $0.start <= address && UInt64(address) < $0.end } ?? false
    }

    private func answer(_ packet: [UInt8]) -> String? {
        let text = String(decoding: packet, as: UTF8.self)
        // `HEADER:DATA`: the header's numbers (hex, after the packet's letter or name).
        func split(_ prefixLength: Int) -> (numbers: [UInt32], data: ArraySlice<UInt8>) {
            let colon = packet[prefixLength...].firstIndex(of: UInt8(ascii: ":")) ?? packet.endIndex
            let numbers = String(decoding: packet[prefixLength..<colon], as: UTF8.self).split(separator: ",").map { UInt32($0, radix: 16)! }
            return (numbers, colon < packet.endIndex ? packet[(colon + 1)...] : [])
        }
        if text.hasPrefix("qSupported") {
            return "PacketSize=\(String(packetSize, radix: 16))" + (describesRegisters ? ";qXfer:features:read+" : "")
                + (flash != nil ? ";qXfer:memory-map:read+" : "")
        }
        if text.hasPrefix("qXfer:features:read:target.xml:") {
            return "l<target><architecture>arm</architecture><feature name=\"org.gnu.gdb.arm.m-profile\">\(Self.description)</feature></target>"
        }
        if text.hasPrefix("qXfer:memory-map:read::"), let flash {
            return "l<memory-map><memory type=\"flash\" start=\"0x\(String(flash.start, radix: 16))\" length=\"0x\(String(flash.length, radix: 16))\">"
                + "<property name=\"blocksize\">0x\(String(flash.blockSize, radix: 16))</property></memory>"
                + "<memory type=\"ram\" start=\"0x20000000\" length=\"0x400000\"/></memory-map>"
        }
        switch packet.first.map({ Character(UnicodeScalar($0)) }) {
        case "X":
            guard takesX else { return "" }
            let (numbers, data) = split(1)
            guard data.count == numbers[1], !inFlash(numbers[0]) else { return "E01" }
            store(data, at: numbers[0])
            return "OK"
        case "M":
            let (numbers, data) = split(1)
            guard let decoded = GDBPacket.bytes(fromHex: String(decoding: data, as: UTF8.self)), decoded.count == numbers[1],
                  !inFlash(numbers[0]) else { return "E01" }
            store(decoded[...], at: numbers[0])
            return "OK"
        case "m":
            let (numbers, _) = split(1)
            return GDBPacket.hex((0..<numbers[1]).map { bytes[numbers[0] + $0] ?? 0 })
        case "P":
            let parts = text.dropFirst().split(separator: "=")
            written[Int(parts[0], radix: 16)!] = TargetWords.word(GDBPacket.bytes(fromHex: parts[1])!, at: 0)
            return "OK"
        default: break
        }
        if text.hasPrefix("qCRC:") {
            guard computesCRC else { return "" }
            let (numbers, _) = split(5)
            return "C" + String(TargetCRC.checksum((0..<numbers[1]).map { bytes[numbers[0] + $0] ?? 0 }), radix: 16)
        }
        if text.hasPrefix("vFlashErase:") {
            let (numbers, _) = split("vFlashErase:".count)
            for address in numbers[0]..<(numbers[0] + numbers[1]) { erased.insert(address); bytes[address] = 0xFF }
            return "OK"
        }
        if text.hasPrefix("vFlashWrite:") {
            let (numbers, data) = split("vFlashWrite:".count)
            guard (0..<UInt32(data.count)).allSatisfy({ erased.contains(numbers[0] + $0) }) else { return "E02" }
            store(data, at: numbers[0])
            return "OK"
        }
        if text == "vFlashDone" { return "OK" }
        return nil
    }
}
