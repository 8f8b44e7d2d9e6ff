// GDBStubFeatures: what a GDB stub says about itself before a load, read as GDB reads it.
//
// Three answers decide how `keel flash` talks to a stub (GDB manual, "General Query Packets",
// "Target Descriptions", "Memory Map Format"):
// - `qSupported`: `PacketSize=N` (hex) bounds every packet the loader sends (a larger one is
//   dropped by QEMU and cut by others), `qXfer:memory-map:read+` says a memory map is there,
//   `qXfer:features:read+` a target description.
// - The memory map (`<memory type="flash" start=".." length="..">` with a `blocksize`
//   property): memory that plain writes cannot change. OpenOCD, pyOCD and probe-rs describe a
//   part's flash there and program it through `vFlashErase`/`vFlashWrite`/`vFlashDone`.
//   QEMU has no map: its "flash" is memory the debugger may write.
// - The target description (`target.xml` and the files it includes): the stub's numbers for
//   SP, PC and xPSR, which differ between stubs (QEMU's xPSR is 25, GDB's old ARM numbering;
//   OpenOCD's and pyOCD's is 16). QEMU also answers `p`/`P` only after its description was read.
// The XML is read with a few patterns, not a parser: stubs send small, flat, generated files.

import Foundation

public struct GDBStubFeatures: Sendable, Equatable {
    /// The largest packet the stub takes, `$`, `#` and checksum included.
    public var packetSize: Int
    public var hasMemoryMap: Bool
    public var hasTargetDescription: Bool
    /// The memory map's regions (empty without one).
    public var memory: [StubMemoryRegion] = []
    public var registers: StubRegisters = .legacy

    /// GDB's packet size for a stub that names none.
    public static let defaultPacketSize = 400

    /// The features a `qSupported` reply names: `PacketSize=1000;qXfer:features:read+;...`.
    public init(supported reply: String) {
        var size: Int? = nil
        var features: Set<Substring> = []
        for item in reply.split(separator: ";") {
            if item.hasPrefix("PacketSize=") { size = Int(item.dropFirst("PacketSize=".count), radix: 16) }
            features.insert(item)
        }
        // Below 64 bytes not even a header and one byte of data fit: such a number is a mistake.
        packetSize = max(64, size ?? Self.defaultPacketSize)
        hasMemoryMap = features.contains("qXfer:memory-map:read+")
        hasTargetDescription = features.contains("qXfer:features:read+")
    }

    /// Asks `target` (halted) what it supports, then reads its target description and memory map.
    public static func query(_ target: GDBRemote) throws(KeelError) -> GDBStubFeatures {
        var features = GDBStubFeatures(supported: try target.request("qSupported:xmlRegisters=arm"))
        if features.hasTargetDescription, let main = try target.readObject("features", annex: "target.xml") {
            var documents = [main]
            // xi:include pulls in the features in order; one level is what stubs send.
            for file in XMLScan.elements("xi:include", in: main).compactMap({ $0.attributes["href"] }) {
                documents.append(try target.readObject("features", annex: file) ?? "")
            }
            features.registers = StubRegisters(description: documents.joined(separator: "\n"))
        }
        if features.hasMemoryMap, let map = try target.readObject("memory-map") {
            features.memory = StubMemoryRegion.regions(inMap: map)
        }
        return features
    }

    /// The flash regions of the memory map.
    public var flash: [StubMemoryRegion] { memory.filter { $0.kind == "flash" } }
}

/// One `<memory>` element of a stub's memory map.
public struct StubMemoryRegion: Sendable, Equatable {
    /// "ram", "rom" or "flash".
    public var kind: String
    public var start: UInt32
    public var length: UInt32
    /// Flash only: the erase unit (the `blocksize` property); 1 when the map names none.
    public var blockSize: UInt32

    public var end: UInt64 { UInt64(start) + UInt64(length) }

    public init(kind: String, start: UInt32, length: UInt32, blockSize: UInt32 = 1) {
        self.kind = kind
        self.start = start
        self.length = length
        self.blockSize = blockSize
    }

    /// The regions of a memory-map document.
    public static func regions(inMap xml: String) -> [StubMemoryRegion] {
        XMLScan.elements("memory", in: xml).compactMap { element in
            guard let kind = element.attributes["type"],
                  let start = element.attributes["start"].flatMap(XMLScan.number),
                  let length = element.attributes["length"].flatMap(XMLScan.number),
                  let start32 = UInt32(exactly: start), let length32 = UInt32(exactly: min(length, (1 << 32) - start)) else { return nil }
            let block = XMLScan.elements("property", in: element.body)
                .first { $0.attributes["name"] == "blocksize" }
                .flatMap { XMLScan.number($0.body.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return StubMemoryRegion(kind: kind, start: start32, length: length32,
                                    blockSize: UInt32(exactly: block ?? 1).map { max(1, $0) } ?? 1)
        }
    }
}

/// The stub's numbers for the registers a reset sets, and the `g` packet's layout.
public struct StubRegisters: Sendable, Equatable {
    public var stackPointer: Int
    public var programCounter: Int
    public var statusRegister: Int
    /// Every register's number and size in bytes, by number: the order of the `g` packet.
    public var sizes: [(number: Int, bytes: Int)]

    public static func == (left: StubRegisters, right: StubRegisters) -> Bool {
        left.stackPointer == right.stackPointer && left.programCounter == right.programCounter
            && left.statusRegister == right.statusRegister && left.sizes.elementsEqual(right.sizes, by: ==)
    }

    /// GDB's numbering for an ARM stub without a description (QEMU's too): r0-r15, eight
    /// 12-byte FPA registers, fps, then cpsr (xPSR on an M-profile core) as 25.
    public static let legacy = StubRegisters(
        stackPointer: 13, programCounter: 15, statusRegister: 25,
        sizes: (0..<16).map { ($0, 4) } + (16..<24).map { ($0, 12) } + [(24, 4), (25, 4)])

    init(stackPointer: Int, programCounter: Int, statusRegister: Int, sizes: [(number: Int, bytes: Int)]) {
        self.stackPointer = stackPointer
        self.programCounter = programCounter
        self.statusRegister = statusRegister
        self.sizes = sizes
    }

    /// The numbers a target description gives: a `<reg>`'s `regnum`, or one more than the
    /// register before it (the first is 0). Names not found keep the legacy number.
    public init(description xml: String) {
        var next = 0
        var byName: [String: Int] = [:]
        var sizes: [(number: Int, bytes: Int)] = []
        for reg in XMLScan.elements("reg", in: xml) {
            let number = reg.attributes["regnum"].flatMap { Int($0) } ?? next
            next = number + 1
            if let name = reg.attributes["name"]?.lowercased() { byName[name] = number }
            sizes.append((number, (reg.attributes["bitsize"].flatMap { Int($0) } ?? 32) / 8))
        }
        let legacy = Self.legacy
        self.init(stackPointer: byName["sp"] ?? byName["r13"] ?? legacy.stackPointer,
                  programCounter: byName["pc"] ?? byName["r15"] ?? legacy.programCounter,
                  statusRegister: byName["xpsr"] ?? byName["cpsr"] ?? legacy.statusRegister,
                  sizes: sizes.isEmpty ? legacy.sizes : sizes.sorted { $0.number < $1.number })
    }

    /// Where register `number` starts in a `g` reply, in bytes; nil when it is not in it.
    public func offsetInAll(_ number: Int) -> Int? {
        guard sizes.contains(where: { $0.number == number }) else { return nil }
        return sizes.filter { $0.number < number }.reduce(0) { $0 + $1.bytes }
    }
}

/// Elements and attributes of the small generated XML stubs send.
enum XMLScan {
    struct Element {
        var attributes: [String: String]
        /// What lies between the opening and the closing tag (empty for `<tag/>`).
        var body: String
    }

    /// Every `<name ...>` element, in document order (not nested in another of the same name).
    static func elements(_ name: String, in xml: String) -> [Element] {
        var found: [Element] = []
        var rest = xml[...]
        while let open = rest.range(of: "<" + name) {
            let after = rest[open.upperBound...]
            // `<reg` must not match `<register`.
            guard let next = after.first, next == " " || next == "/" || next == ">" || next == "\n" || next == "\t" else {
                rest = after
                continue
            }
            guard let close = after.firstIndex(of: ">") else { break }
            let tag = after[..<close]
            var body = ""
            rest = after[after.index(after: close)...]
            if !tag.hasSuffix("/"), let end = rest.range(of: "</" + name + ">") {
                body = String(rest[..<end.lowerBound])
                rest = rest[end.upperBound...]
            }
            found.append(Element(attributes: attributes(String(tag)), body: body))
        }
        return found
    }

    /// `key="value"` (or single quotes) pairs of a tag.
    static func attributes(_ tag: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = tag[...]
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).last.map(String.init) ?? ""
            var value = rest[rest.index(after: equals)...].drop { $0 == " " }
            guard let quote = value.first, quote == "\"" || quote == "'" else { break }
            value = value.dropFirst()
            guard let end = value.firstIndex(of: quote) else { break }
            result[key] = String(value[..<end])
            rest = value[value.index(after: end)...]
        }
        return result
    }

    /// `0x1000` or `4096`.
    static func number(_ text: String) -> UInt64? {
        text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }
}
