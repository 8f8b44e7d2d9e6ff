// Log records back into text: the host half of `Log` (Firmware/Kernel/Log.swift).
//
// The firmware writes `Log.info("x \(a) at \(b)")` as a line of fields: each literal piece as
// its address and length in the image, each argument as a raw word with a type tag. This
// reads the literal bytes from the ELF's loaded sections and formats the words as `print`
// would have ("x 3 at 42"). The record format is documented in Log.swift; this is the only
// host code that knows it. A record that cannot be decoded becomes a line that says so and
// shows the record, never an error: the console goes on.

import Foundation

public struct LogDecoder: Sendable {
    /// The first byte of a record line (ASCII RS; never in normal text).
    public static let marker: Character = "\u{1E}"

    /// The image's loaded bytes by address: every allocated section with contents.
    let regions: [(address: UInt32, bytes: [UInt8])]
    /// Why the image could not be read, when it could not (every record is then undecodable).
    let imageProblem: String?
    /// Fields of records that continue on a later line, by owner (task index + 1, 0 kernel).
    var pending: [UInt32: [Field]] = [:]

    public init(elf: ELFFile) {
        var regions: [(address: UInt32, bytes: [UInt8])] = []
        for section in elf.sections where section.flags.contains(.alloc) && section.hasFileContents && section.size > 0 {
            if let bytes = try? elf.contents(of: section) { regions.append((section.address, Array(bytes))) }
        }
        self.init(regions: regions, imageProblem: nil)
    }

    /// Reads the image at `url`; when it cannot, every record decodes to a line saying why.
    public init(imageAt url: URL) {
        do { self.init(elf: try ELFFile(contentsOf: url)) } catch {
            self.init(regions: [], imageProblem: "cannot read the image \(url.lastPathComponent): \(error.description)")
        }
    }

    init(regions: [(address: UInt32, bytes: [UInt8])], imageProblem: String?) {
        self.regions = regions
        self.imageProblem = imageProblem
    }

    /// True for a console line that is a log record.
    public static func isRecord(_ line: String) -> Bool { line.first == marker }

    /// The text of a record line, as `print` would have shown it ("warning: " or "error: "
    /// first for those levels); "<undecodable log record: ...>" when it cannot be decoded; nil
    /// when the record continues on a later line.
    public mutating func decode(_ line: String) -> String? {
        let raw = String(line.drop { $0 == Self.marker })
        do throws(Undecodable) {
            var fields = try Self.fields(raw)
            if let first = fields.first, first.tag == "~" {
                guard let earlier = pending.removeValue(forKey: first.value) else {
                    throw Undecodable("it continues a record whose start never came")
                }
                fields = earlier + fields.dropFirst()
            }
            if let last = fields.last, last.tag == "~" {
                pending[last.value] = Array(fields.dropLast())
                return nil
            }
            return try text(fields)
        } catch {
            return Self.undecodable(error.reason, raw)
        }
    }

    /// The parts of records that never ended (the run stopped in the middle of one).
    public mutating func finish() -> [String] {
        defer { pending = [:] }
        return pending.keys.sorted().map { owner in
            Self.undecodable("the run ended before its end", pending[owner]!.map(\.description).joined())
        }
    }

    static func undecodable(_ reason: String, _ raw: String) -> String {
        "<undecodable log record: \(reason); record \"\(raw)\">"
    }

    // MARK: Fields

    struct Field: Sendable, Equatable, CustomStringConvertible {
        var tag: Character
        var value: UInt32
        var description: String { "\(tag)\(String(value, radix: 16))" }
    }

    struct Undecodable: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    static let tags: Set<Character> = ["S", ",", "U", "D", "X", "B", "C", "H", "~", "L"]

    /// A record's fields: a tag, then 1...8 lowercase hex digits.
    static func fields(_ raw: String) throws(Undecodable) -> [Field] {
        var fields: [Field] = []
        var characters = raw[...]
        while let tag = characters.first {
            guard tags.contains(tag) else { throw Undecodable("unknown field tag '\(tag.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())'") }
            characters = characters.dropFirst()
            let digits = characters.prefix { $0.isASCII && $0.isHexDigit && !$0.isUppercase }
            characters = characters.dropFirst(digits.count)
            guard !digits.isEmpty, digits.count <= 8, let value = UInt32(digits, radix: 16) else {
                throw Undecodable(digits.isEmpty ? "field '\(tag)' has no hex digits" : "field '\(tag)' has more than 8 hex digits")
            }
            fields.append(Field(tag: tag, value: value))
        }
        return fields
    }

    /// The text of a whole record's fields.
    func text(_ fields: [Field]) throws(Undecodable) -> String {
        if let problem = imageProblem { throw Undecodable(problem) }
        guard let last = fields.last, last.tag == "L" else { throw Undecodable("it has no level at its end") }
        var text = ""
        var high: UInt32? = nil
        var index = 0
        while index < fields.count - 1 {
            let field = fields[index]
            index += 1
            if high != nil && !"UDX".contains(field.tag) { throw Undecodable("a high word is not followed by a number") }
            switch field.tag {
            case "S":
                guard index < fields.count - 1, fields[index].tag == "," else { throw Undecodable("a literal has no length") }
                text += try literal(at: field.value, length: fields[index].value)
                index += 1
            case "U":
                text += high.map { String(UInt64($0) << 32 | UInt64(field.value)) } ?? String(field.value)
            case "D":
                text += high.map { String(Int64(bitPattern: UInt64($0) << 32 | UInt64(field.value))) } ?? String(Int32(bitPattern: field.value))
            case "X":
                text += "0x" + String(high.map { UInt64($0) << 32 | UInt64(field.value) } ?? UInt64(field.value), radix: 16)
            case "B":
                guard field.value <= 1 else { throw Undecodable("a Bool is \(field.value)") }
                text += field.value == 1 ? "true" : "false"
            case "C":
                guard let scalar = Unicode.Scalar(field.value) else { throw Undecodable("\(field.value) is not a Unicode scalar") }
                text.unicodeScalars.append(scalar)
            case "H":
                high = field.value
                continue
            default:
                throw Undecodable("field '\(field.tag)' in the middle of the record")
            }
            high = nil
        }
        if high != nil { throw Undecodable("a high word is not followed by a number") }
        switch last.value {
        case 0: return text
        case 1: return "warning: " + text
        case 2: return "error: " + text
        default: throw Undecodable("unknown level \(last.value)")
        }
    }

    /// The UTF-8 text of `length` bytes at `address` in the image.
    func literal(at address: UInt32, length: UInt32) throws(Undecodable) -> String {
        let end = UInt64(address) + UInt64(length)
        for region in regions where region.address <= address && end <= UInt64(region.address) + UInt64(region.bytes.count) {
            let start = Int(address - region.address)
            guard let text = String(validating: region.bytes[start..<start + Int(length)], as: UTF8.self) else {
                throw Undecodable("the literal at \(hex(address)) is not UTF-8")
            }
            return text
        }
        throw Undecodable("the literal at \(hex(address)) (\(length) bytes) is not in the image")
    }
}
