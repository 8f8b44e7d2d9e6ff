// ELF reader: sections, symbols, program headers and .stack_sizes from a linked Cortex-M image.
//
// Why: the host needs the firmware's symbols to put a name on a fault PC, its
// program headers to report flash and RAM use, and LLVM's `.stack_sizes`
// section as input to the static stack analysis. The image comes from whatever
// the user's build produced, so it is untrusted input: every read is
// bounds-checked with overflow-checked arithmetic, and anything malformed
// throws a specific `ELFError` instead of trapping. Only 32-bit little-endian
// ARM files are accepted (the only kind an ARMv6-M/v7-M/v8-M toolchain emits):
// an image for another machine is refused, never decoded as Thumb code.

import Foundation

// MARK: - Errors

/// Why an ELF file could not be read. Every case has a one-line human message.
public enum ELFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read from disk.
    case unreadable(path: String, reason: String)
    /// The input ends before a fixed-size structure (such as the ELF header) does.
    case tooShort(needed: Int, have: Int)
    /// The input does not start with `\x7fELF`.
    case notELF
    /// `EI_CLASS` is not `ELFCLASS32`.
    case unsupportedClass(UInt8)
    /// `EI_DATA` is not `ELFDATA2LSB`.
    case unsupportedEncoding(UInt8)
    /// `EI_VERSION` or `e_version` is not `EV_CURRENT` (1).
    case unsupportedVersion(UInt32)
    /// `e_machine` is not `EM_ARM` (40).
    case unsupportedMachine(UInt16)
    /// A table, section or entry lies (partly) outside the file, or its end overflows.
    case outOfBounds(what: String, offset: UInt64, size: UInt64, fileSize: Int)
    /// `e_shentsize` / `e_phentsize` / a symbol table's `sh_entsize` is too small (or zero).
    case badEntrySize(what: String, size: UInt32, minimum: UInt32)
    /// A header refers to a section index that does not exist (e.g. `e_shstrndx`).
    case badSectionIndex(what: String, index: Int, count: Int)
    /// A section that must be a string table is not one (wrong type, empty, no final NUL).
    case badStringTable(section: Int, reason: String)
    /// A name offset points past the end of its string table.
    case badStringOffset(section: Int, offset: UInt32, size: UInt32)
    /// A section's `sh_link` names a section that does not exist.
    case badLink(section: Int, link: Int)
    /// A `.stack_sizes` entry is cut off: the address or the ULEB128 size runs past the section end.
    case truncatedStackSizes(section: Int, offset: Int)
    /// A `.stack_sizes` ULEB128 frame size does not fit in 32 bits.
    case stackSizeOverflow(section: Int, offset: Int)
    /// A section the caller asked for is not in the file.
    case missingSection(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read ELF file \(path): \(reason)"
        case let .tooShort(needed, have):
            return "file too short for an ELF header: need \(needed) bytes, have \(have)"
        case .notELF:
            return "not an ELF file (bad magic; expected 7f 45 4c 46)"
        case let .unsupportedClass(value):
            return "unsupported ELF class \(value); only 32-bit (ELFCLASS32 = 1) is supported"
        case let .unsupportedEncoding(value):
            return "unsupported ELF data encoding \(value); only little-endian (ELFDATA2LSB = 1) is supported"
        case let .unsupportedVersion(value):
            return "unsupported ELF version \(value); expected 1"
        case let .unsupportedMachine(value):
            let name = ELFFile.machineNames[value].map { " (\($0))" } ?? ""
            return "e_machine is \(value)\(name), not 40 (ARM): not an image for a Cortex-M"
        case let .outOfBounds(what, offset, size, fileSize):
            return "\(what) at offset 0x\(String(offset, radix: 16)) size 0x\(String(size, radix: 16)) "
                + "lies outside the \(fileSize)-byte file"
        case let .badEntrySize(what, size, minimum):
            return "\(what) entry size \(size) is invalid; need at least \(minimum)"
        case let .badSectionIndex(what, index, count):
            return "\(what) refers to section \(index), but the file has only \(count) sections"
        case let .badStringTable(section, reason):
            return "section \(section) is not a valid string table: \(reason)"
        case let .badStringOffset(section, offset, size):
            return "string offset \(offset) is past the end of string table section \(section) (size \(size))"
        case let .badLink(section, link):
            return "section \(section) links to section \(link), which does not exist"
        case let .truncatedStackSizes(section, offset):
            return ".stack_sizes (section \(section)) is truncated at offset \(offset)"
        case let .stackSizeOverflow(section, offset):
            return ".stack_sizes (section \(section)) has a frame size at offset \(offset) that does not fit in 32 bits"
        case let .missingSection(name):
            return "the file has no \(name) section"
        }
    }
}

// MARK: - Sections

/// `sh_type` values. An open set: unknown values are kept as-is.
public struct ELFSectionType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let null = ELFSectionType(rawValue: 0)
    public static let progbits = ELFSectionType(rawValue: 1)
    public static let symtab = ELFSectionType(rawValue: 2)
    public static let strtab = ELFSectionType(rawValue: 3)
    public static let rela = ELFSectionType(rawValue: 4)
    public static let hash = ELFSectionType(rawValue: 5)
    public static let dynamic = ELFSectionType(rawValue: 6)
    public static let note = ELFSectionType(rawValue: 7)
    public static let nobits = ELFSectionType(rawValue: 8)
    public static let rel = ELFSectionType(rawValue: 9)
    public static let dynsym = ELFSectionType(rawValue: 11)
    public static let initArray = ELFSectionType(rawValue: 14)
    public static let finiArray = ELFSectionType(rawValue: 15)
    public static let group = ELFSectionType(rawValue: 17)
    public static let symtabShndx = ELFSectionType(rawValue: 18)
    public static let armExidx = ELFSectionType(rawValue: 0x7000_0001)
    public static let armAttributes = ELFSectionType(rawValue: 0x7000_0003)

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .progbits: return "PROGBITS"
        case .symtab: return "SYMTAB"
        case .strtab: return "STRTAB"
        case .rela: return "RELA"
        case .hash: return "HASH"
        case .dynamic: return "DYNAMIC"
        case .note: return "NOTE"
        case .nobits: return "NOBITS"
        case .rel: return "REL"
        case .dynsym: return "DYNSYM"
        case .initArray: return "INIT_ARRAY"
        case .finiArray: return "FINI_ARRAY"
        case .group: return "GROUP"
        case .symtabShndx: return "SYMTAB_SHNDX"
        case .armExidx: return "ARM_EXIDX"
        case .armAttributes: return "ARM_ATTRIBUTES"
        default: return "0x" + String(rawValue, radix: 16)
        }
    }
}

/// `sh_flags` bits.
public struct ELFSectionFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let write = ELFSectionFlags(rawValue: 0x1)
    public static let alloc = ELFSectionFlags(rawValue: 0x2)
    public static let execInstr = ELFSectionFlags(rawValue: 0x4)
    public static let merge = ELFSectionFlags(rawValue: 0x10)
    public static let strings = ELFSectionFlags(rawValue: 0x20)
    public static let infoLink = ELFSectionFlags(rawValue: 0x40)
    public static let linkOrder = ELFSectionFlags(rawValue: 0x80)
    public static let group = ELFSectionFlags(rawValue: 0x200)
    public static let tls = ELFSectionFlags(rawValue: 0x400)
}

/// One section header.
public struct ELFSection: Sendable, Hashable {
    /// Index in the section header table.
    public let index: Int
    /// Name from the section-header string table ("" if the file has none).
    public let name: String
    public let type: ELFSectionType
    public let flags: ELFSectionFlags
    /// `sh_addr`: run-time address (0 for non-allocated sections).
    public let address: UInt32
    /// `sh_offset`: file offset of the contents.
    public let offset: UInt32
    /// `sh_size`: size in bytes (in memory, for NOBITS sections).
    public let size: UInt32
    public let link: UInt32
    public let info: UInt32
    public let addressAlignment: UInt32
    public let entrySize: UInt32

    /// True when the section occupies file bytes (everything but NULL and NOBITS).
    public var hasFileContents: Bool { type != .nobits && type != .null }
}

// MARK: - Symbols

/// `ELF32_ST_TYPE` of a symbol.
public enum ELFSymbolType: Sendable, Hashable {
    case notype, object, function, section, file, common, tls
    case other(UInt8)

    init(raw: UInt8) {
        switch raw {
        case 0: self = .notype
        case 1: self = .object
        case 2: self = .function
        case 3: self = .section
        case 4: self = .file
        case 5: self = .common
        case 6: self = .tls
        default: self = .other(raw)
        }
    }
}

/// `ELF32_ST_BIND` of a symbol.
public enum ELFSymbolBinding: Sendable, Hashable {
    case local, global, weak
    case other(UInt8)

    init(raw: UInt8) {
        switch raw {
        case 0: self = .local
        case 1: self = .global
        case 2: self = .weak
        default: self = .other(raw)
        }
    }
}

/// One `.symtab` entry.
public struct ELFSymbol: Sendable, Hashable {
    /// Index in the symbol table (index 0, the null symbol, is never reported).
    public let index: Int
    public let name: String
    /// Raw `st_value`. For Thumb functions bit 0 is set.
    public let value: UInt32
    /// `value` with the Thumb bit cleared for ARM function symbols: where the code starts.
    public let address: UInt32
    /// True for an ARM `STT_FUNC` symbol whose `st_value` has bit 0 set.
    public let isThumb: Bool
    public let size: UInt32
    public let type: ELFSymbolType
    public let binding: ELFSymbolBinding
    /// `st_other & 3`.
    public let visibility: UInt8
    /// Raw `st_shndx`: a section index, or one of the `SHN_*` specials below.
    public let sectionIndex: UInt16

    public static let undefinedSection: UInt16 = 0       // SHN_UNDEF
    public static let absoluteSection: UInt16 = 0xFFF1   // SHN_ABS
    public static let commonSection: UInt16 = 0xFFF2     // SHN_COMMON
    public static let extendedSection: UInt16 = 0xFFFF   // SHN_XINDEX

    public var isDefined: Bool { sectionIndex != Self.undefinedSection }
}

// MARK: - Program headers

/// `p_type` values. An open set.
public struct ELFProgramHeaderType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let null = ELFProgramHeaderType(rawValue: 0)
    public static let load = ELFProgramHeaderType(rawValue: 1)
    public static let dynamic = ELFProgramHeaderType(rawValue: 2)
    public static let interp = ELFProgramHeaderType(rawValue: 3)
    public static let note = ELFProgramHeaderType(rawValue: 4)
    public static let shlib = ELFProgramHeaderType(rawValue: 5)
    public static let phdr = ELFProgramHeaderType(rawValue: 6)
    public static let tls = ELFProgramHeaderType(rawValue: 7)
    public static let gnuStack = ELFProgramHeaderType(rawValue: 0x6474_E551)
    public static let armExidx = ELFProgramHeaderType(rawValue: 0x7000_0001)

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .load: return "LOAD"
        case .dynamic: return "DYNAMIC"
        case .interp: return "INTERP"
        case .note: return "NOTE"
        case .shlib: return "SHLIB"
        case .phdr: return "PHDR"
        case .tls: return "TLS"
        case .gnuStack: return "GNU_STACK"
        case .armExidx: return "ARM_EXIDX"
        default: return "0x" + String(rawValue, radix: 16)
        }
    }
}

/// `p_flags` bits.
public struct ELFSegmentFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let execute = ELFSegmentFlags(rawValue: 0x1)
    public static let write = ELFSegmentFlags(rawValue: 0x2)
    public static let read = ELFSegmentFlags(rawValue: 0x4)
}

/// One program header (segment). For a Cortex-M image, a LOAD segment's
/// `physicalAddress` is where it is stored (flash) and `virtualAddress` where it
/// runs; `.data` has both, `.bss` has `fileSize` 0 and only occupies RAM.
public struct ELFProgramHeader: Sendable, Hashable {
    public let index: Int
    public let type: ELFProgramHeaderType
    public let offset: UInt32
    public let virtualAddress: UInt32
    public let physicalAddress: UInt32
    public let fileSize: UInt32
    public let memorySize: UInt32
    public let flags: ELFSegmentFlags
    public let alignment: UInt32
}

/// One decoded `.stack_sizes` record.
public struct ELFStackSizeEntry: Sendable, Hashable {
    /// Index of the `.stack_sizes` section it came from.
    public let section: Int
    /// Byte offset of the record inside that section.
    public let offset: Int
    /// Function address as stored. In an unrelocated object (ARM uses REL) this is
    /// the addend: the function's offset in its section, so 0 with -ffunction-sections.
    public let address: UInt32
    /// Static frame size in bytes.
    public let frameSize: UInt32
}

// MARK: - The file

public struct ELFFile: Sendable {
    public static let machineARM: UInt16 = 40        // EM_ARM
    public static let typeRelocatable: UInt16 = 1    // ET_REL
    public static let typeExecutable: UInt16 = 2     // ET_EXEC
    /// A Cortex-M image with its debug information is a few megabytes; larger is not one.
    public static let maximumFileBytes: UInt64 = 256 << 20
    /// Names of the `e_machine` values an image for the wrong machine most likely has.
    static let machineNames: [UInt16: String] = [
        0: "none", 2: "SPARC", 3: "x86", 8: "MIPS", 20: "PowerPC", 21: "PowerPC 64", 40: "ARM",
        62: "x86-64", 183: "AArch64", 243: "RISC-V",
    ]

    /// `e_type`: 1 relocatable, 2 executable, ...
    public let fileType: UInt16
    /// `e_machine`: 40 for ARM.
    public let machine: UInt16
    /// `e_entry`: entry point (with the Thumb bit as the linker wrote it).
    public let entry: UInt32
    /// `e_flags` (ARM EABI version and float ABI bits).
    public let flags: UInt32
    public let sections: [ELFSection]
    /// Every `.symtab` entry except the null symbol at index 0, in table order.
    public let symbols: [ELFSymbol]
    public let programHeaders: [ELFProgramHeader]

    private let bytes: [UInt8]
    /// Indices into `symbols` of defined FUNC symbols with size > 0, by address.
    private let functionIndex: AddressIndex
    /// Indices into `symbols` of defined OBJECT/NOTYPE symbols with size > 0, by address.
    private let dataIndex: AddressIndex
    /// Name → index into `symbols` for the preferred defined symbol of that name.
    private let symbolsByName: [String: Int]

    public var isRelocatable: Bool { fileType == Self.typeRelocatable }
    public var isExecutable: Bool { fileType == Self.typeExecutable }

    public init(contentsOf url: URL) throws(ELFError) {
        // Looked at before it is opened: a FIFO would block, a directory would say "permission".
        switch FileKind.status(of: url.path) {
        case .success(let found) where found.kind != .file:
            throw .unreadable(path: url.path, reason: "it is \(found.kind), not a file")
        case .success(let found) where found.bytes > Self.maximumFileBytes:
            throw .unreadable(path: url.path, reason: "it is \(found.bytes) bytes, more than an image can be (\(Self.maximumFileBytes))")
        case .success:
            break
        case .failure(let error):
            throw .unreadable(path: url.path, reason: FileKind.reason(error))
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        try self.init(bytes: [UInt8](data))
    }

    public init(bytes: [UInt8]) throws(ELFError) {
        let reader = ByteReader(bytes: bytes)
        let headerSize = 52
        guard bytes.count >= 4, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46 else {
            // Fewer than 4 bytes that agree with the magic so far (including none) are "too short".
            let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
            if bytes.count < 4, bytes.elementsEqual(magic.prefix(bytes.count)) {
                throw .tooShort(needed: headerSize, have: bytes.count)
            }
            throw .notELF
        }
        guard bytes.count >= 16 else { throw .tooShort(needed: headerSize, have: bytes.count) }
        guard bytes[4] == 1 else { throw .unsupportedClass(bytes[4]) }
        guard bytes[5] == 1 else { throw .unsupportedEncoding(bytes[5]) }
        guard bytes[6] == 1 else { throw .unsupportedVersion(UInt32(bytes[6])) }
        guard bytes.count >= headerSize else { throw .tooShort(needed: headerSize, have: bytes.count) }

        let eType = try reader.u16(16, "ELF header")
        let eMachine = try reader.u16(18, "ELF header")
        guard eMachine == Self.machineARM else { throw .unsupportedMachine(eMachine) }
        let eVersion = try reader.u32(20, "ELF header")
        guard eVersion == 1 else { throw .unsupportedVersion(eVersion) }
        let eEntry = try reader.u32(24, "ELF header")
        let ePhoff = try reader.u32(28, "ELF header")
        let eShoff = try reader.u32(32, "ELF header")
        let eFlags = try reader.u32(36, "ELF header")
        let ePhentsize = try reader.u16(42, "ELF header")
        let ePhnum = try reader.u16(44, "ELF header")
        let eShentsize = try reader.u16(46, "ELF header")
        let eShnum = try reader.u16(48, "ELF header")
        let eShstrndx = try reader.u16(50, "ELF header")

        // Section header table (with the extended-numbering escapes kept in section 0).
        var sectionCount = UInt64(eShnum)
        var shstrndx = UInt64(eShstrndx)
        var phCount = UInt64(ePhnum)
        var rawSections: [RawSection] = []
        if eShoff != 0 {
            guard eShentsize >= 40 else {
                throw .badEntrySize(what: "section header", size: UInt32(eShentsize), minimum: 40)
            }
            let first = try RawSection(reader: reader, at: UInt64(eShoff))
            if sectionCount == 0 { sectionCount = UInt64(first.size) }   // SHN_UNDEF escape
            if eShstrndx == 0xFFFF { shstrndx = UInt64(first.link) }     // SHN_XINDEX escape
            if ePhnum == 0xFFFF { phCount = UInt64(first.info) }         // PN_XNUM escape
            _ = try reader.range(UInt64(eShoff), sectionCount &* UInt64(eShentsize), "section header table")
            rawSections.reserveCapacity(Int(truncatingIfNeeded: sectionCount))
            for i in 0..<sectionCount {
                let at = UInt64(eShoff) &+ i &* UInt64(eShentsize)
                rawSections.append(try RawSection(reader: reader, at: at))
            }
        } else {
            sectionCount = 0
            shstrndx = 0
        }
        let count = rawSections.count

        // Every section with file contents must lie inside the file.
        for (i, raw) in rawSections.enumerated() where raw.type != .nobits && raw.type != .null {
            _ = try reader.range(UInt64(raw.offset), UInt64(raw.size), "section \(i) contents")
        }
        // Links must point at existing sections.
        for (i, raw) in rawSections.enumerated() where UInt64(raw.link) >= UInt64(count) {
            throw .badLink(section: i, link: Int(truncatingIfNeeded: raw.link))
        }

        // Section names.
        var names = [String](repeating: "", count: count)
        if shstrndx != 0 {
            guard shstrndx < UInt64(count) else {
                throw .badSectionIndex(what: "e_shstrndx", index: Int(truncatingIfNeeded: shstrndx), count: count)
            }
            let strtab = try StringTable(reader: reader, sections: rawSections, index: Int(shstrndx))
            for i in 0..<count {
                names[i] = try strtab.string(at: rawSections[i].nameOffset)
            }
        }
        var sections: [ELFSection] = []
        sections.reserveCapacity(count)
        for (i, raw) in rawSections.enumerated() {
            sections.append(ELFSection(
                index: i, name: names[i], type: raw.type, flags: ELFSectionFlags(rawValue: raw.flags),
                address: raw.address, offset: raw.offset, size: raw.size, link: raw.link, info: raw.info,
                addressAlignment: raw.addressAlignment, entrySize: raw.entrySize))
        }

        // Symbols from the (first) SYMTAB section.
        var symbols: [ELFSymbol] = []
        if let symtabIndex = rawSections.firstIndex(where: { $0.type == .symtab }) {
            let symtab = rawSections[symtabIndex]
            guard symtab.entrySize >= 16 else {
                throw .badEntrySize(what: "symbol table (section \(symtabIndex))", size: symtab.entrySize, minimum: 16)
            }
            let strtab = try StringTable(reader: reader, sections: rawSections, index: Int(symtab.link))
            let symbolCount = UInt64(symtab.size) / UInt64(symtab.entrySize)
            if symbolCount > 1 {
                symbols.reserveCapacity(Int(truncatingIfNeeded: symbolCount - 1))
                for i in 1..<symbolCount {
                    let at = UInt64(symtab.offset) &+ i &* UInt64(symtab.entrySize)
                    let what = "symbol \(i)"
                    let nameOffset = try reader.u32(at, what)
                    let value = try reader.u32(at &+ 4, what)
                    let size = try reader.u32(at &+ 8, what)
                    let info = try reader.u8(at &+ 12, what)
                    let other = try reader.u8(at &+ 13, what)
                    let shndx = try reader.u16(at &+ 14, what)
                    let type = ELFSymbolType(raw: info & 0xF)
                    let thumb = type == .function && value & 1 != 0   // every file here is ARM
                    symbols.append(ELFSymbol(
                        index: Int(truncatingIfNeeded: i), name: try strtab.string(at: nameOffset),
                        value: value, address: thumb ? value & ~1 : value, isThumb: thumb, size: size,
                        type: type, binding: ELFSymbolBinding(raw: info >> 4), visibility: other & 3,
                        sectionIndex: shndx))
                }
            }
        }

        // Program headers.
        var programHeaders: [ELFProgramHeader] = []
        if ePhoff != 0 && phCount != 0 {
            guard ePhentsize >= 32 else {
                throw .badEntrySize(what: "program header", size: UInt32(ePhentsize), minimum: 32)
            }
            _ = try reader.range(UInt64(ePhoff), phCount &* UInt64(ePhentsize), "program header table")
            programHeaders.reserveCapacity(Int(truncatingIfNeeded: phCount))
            for i in 0..<phCount {
                let at = UInt64(ePhoff) &+ i &* UInt64(ePhentsize)
                let what = "program header \(i)"
                programHeaders.append(ELFProgramHeader(
                    index: Int(truncatingIfNeeded: i),
                    type: ELFProgramHeaderType(rawValue: try reader.u32(at, what)),
                    offset: try reader.u32(at &+ 4, what),
                    virtualAddress: try reader.u32(at &+ 8, what),
                    physicalAddress: try reader.u32(at &+ 12, what),
                    fileSize: try reader.u32(at &+ 16, what),
                    memorySize: try reader.u32(at &+ 20, what),
                    flags: ELFSegmentFlags(rawValue: try reader.u32(at &+ 24, what)),
                    alignment: try reader.u32(at &+ 28, what)))
            }
        }

        // Lookup indices.
        var functions: [Int] = []
        var data: [Int] = []
        var byName: [String: Int] = [:]
        for (i, symbol) in symbols.enumerated() {
            guard symbol.isDefined, symbol.sectionIndex != ELFSymbol.commonSection else { continue }
            switch symbol.type {
            case .function where symbol.size > 0:
                functions.append(i)
            case .object where symbol.size > 0, .notype where symbol.size > 0:
                data.append(i)
            default:
                break
            }
            switch symbol.type {
            case .section, .file:
                continue
            default:
                break
            }
            if symbol.name.isEmpty { continue }
            if let existing = byName[symbol.name] {
                if Self.bindingRank(symbol.binding) > Self.bindingRank(symbols[existing].binding) {
                    byName[symbol.name] = i
                }
            } else {
                byName[symbol.name] = i
            }
        }

        self.bytes = bytes
        self.fileType = eType
        self.machine = eMachine
        self.entry = eEntry
        self.flags = eFlags
        self.sections = sections
        self.symbols = symbols
        self.programHeaders = programHeaders
        self.functionIndex = AddressIndex(symbols: symbols, members: functions)
        self.dataIndex = AddressIndex(symbols: symbols, members: data)
        self.symbolsByName = byName
    }

    /// Global beats weak beats local (and anything else) when names or addresses collide.
    static func bindingRank(_ binding: ELFSymbolBinding) -> Int {
        switch binding {
        case .global: return 3
        case .weak: return 2
        case .local: return 1
        case .other: return 0
        }
    }

    // MARK: Queries

    /// The first section with this name.
    public func section(named name: String) -> ELFSection? {
        sections.first { $0.name == name }
    }

    /// A copy of the section's bytes, indexed from 0. NOBITS (and NULL) sections
    /// have no file contents and yield an empty slice.
    public func contents(of section: ELFSection) throws(ELFError) -> ArraySlice<UInt8> {
        guard section.hasFileContents, section.size > 0 else { return [] }
        let range = try ByteReader(bytes: bytes).range(
            UInt64(section.offset), UInt64(section.size), "section \(section.index) contents")
        return ArraySlice(Array(bytes[range]))
    }

    /// A copy of the bytes a program header's segment takes from the file (its `p_filesz`
    /// bytes), indexed from 0.
    public func contents(of segment: ELFProgramHeader) throws(ELFError) -> [UInt8] {
        guard segment.fileSize > 0 else { return [] }
        let range = try ByteReader(bytes: bytes).range(
            UInt64(segment.offset), UInt64(segment.fileSize), "segment \(segment.index) contents")
        return Array(bytes[range])
    }

    /// The `count` bytes the image loads at `address`, from the one allocated section with
    /// contents that holds them all; nil when none does.
    public func loadedBytes(at address: UInt32, count: Int) -> [UInt8]? {
        guard let section = sections.first(where: {
            $0.flags.contains(.alloc) && $0.hasFileContents && $0.address <= address
                && UInt64(address) + UInt64(count) <= UInt64($0.address) + UInt64($0.size)
        }), let contents = try? contents(of: section) else { return nil }
        let start = contents.startIndex + Int(address - section.address)
        return Array(contents[start..<start + count])
    }

    /// The symbol covering `address`: a defined FUNC symbol whose
    /// `[address, address + size)` contains it, or failing that an OBJECT or
    /// NOTYPE symbol with non-zero size. When several contain it, the one that
    /// starts closest below wins; among equal starts, global > weak > local.
    /// O(log n) for non-overlapping symbols.
    public func symbol(containing address: UInt32) -> ELFSymbol? {
        if let i = functionIndex.lookup(address) { return symbols[i] }
        if let i = dataIndex.lookup(address) { return symbols[i] }
        return nil
    }

    /// The defined symbol with this name (global preferred over weak over local).
    public func symbol(named name: String) -> ELFSymbol? {
        symbolsByName[name].map { symbols[$0] }
    }

    /// Address of the defined symbol with this name, Thumb bit cleared for functions.
    public func address(ofSymbol name: String) -> UInt32? {
        symbol(named: name)?.address
    }

    /// Every record of every section named `.stack_sizes`, in file order.
    /// Throws `.missingSection(".stack_sizes")` when there is none (the image was
    /// not built with `-fstack-size-section`).
    public func stackSizeEntries() throws(ELFError) -> [ELFStackSizeEntry] {
        let stackSections = sections.filter { $0.name == ".stack_sizes" }
        guard !stackSections.isEmpty else { throw .missingSection(".stack_sizes") }
        var entries: [ELFStackSizeEntry] = []
        for section in stackSections {
            let data = try contents(of: section)   // zero-based copy
            var pos = 0
            while pos < data.count {
                let start = pos
                guard data.count - pos >= 4 else {
                    throw .truncatedStackSizes(section: section.index, offset: start)
                }
                let address = UInt32(data[pos]) | UInt32(data[pos + 1]) << 8
                    | UInt32(data[pos + 2]) << 16 | UInt32(data[pos + 3]) << 24
                pos += 4
                var value: UInt64 = 0
                var shift: UInt64 = 0
                while true {
                    guard pos < data.count else {
                        throw .truncatedStackSizes(section: section.index, offset: start)
                    }
                    let byte = data[pos]
                    pos += 1
                    let payload = UInt64(byte & 0x7F)
                    if payload != 0 {
                        // Any set bit at or above bit 32 means the size does not fit.
                        guard shift < 32, payload << shift <= UInt64(UInt32.max) else {
                            throw .stackSizeOverflow(section: section.index, offset: start)
                        }
                        value |= payload << shift
                    }
                    if byte & 0x80 == 0 { break }
                    shift += 7
                    // Redundant 0x80 padding is legal ULEB128, but cap it so junk can't spin forever.
                    guard shift < 64 else { throw .stackSizeOverflow(section: section.index, offset: start) }
                }
                guard value <= UInt64(UInt32.max) else {
                    throw .stackSizeOverflow(section: section.index, offset: start)
                }
                entries.append(ELFStackSizeEntry(
                    section: section.index, offset: start, address: address, frameSize: UInt32(value)))
            }
        }
        return entries
    }

    /// `.stack_sizes` as function address (Thumb bit cleared, so it matches
    /// `ELFSymbol.address`) → frame size in bytes. If two records share an
    /// address — as in an unrelocated object built with -ffunction-sections, where
    /// every address is 0 — the largest frame is kept. Use `stackSizeEntries()`
    /// to see every record.
    public func stackSizes() throws(ELFError) -> [UInt32: UInt32] {
        var result: [UInt32: UInt32] = [:]
        for entry in try stackSizeEntries() {
            let key = entry.address & ~1
            result[key] = max(result[key] ?? 0, entry.frameSize)
        }
        return result
    }
}

// MARK: - Internals

/// Bounds-checked little-endian reads. Offsets are UInt64 so that sums of
/// 32-bit file fields cannot overflow; every check compares against the file size.
private struct ByteReader {
    let bytes: [UInt8]

    func range(_ offset: UInt64, _ size: UInt64, _ what: String) throws(ELFError) -> Range<Int> {
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= UInt64(bytes.count), end <= UInt64(UInt32.max) + 1 else {
            throw .outOfBounds(what: what, offset: offset, size: size, fileSize: bytes.count)
        }
        return Int(truncatingIfNeeded: offset)..<Int(truncatingIfNeeded: end)
    }

    func u8(_ offset: UInt64, _ what: String) throws(ELFError) -> UInt8 {
        let r = try range(offset, 1, what)
        return bytes[r.lowerBound]
    }

    func u16(_ offset: UInt64, _ what: String) throws(ELFError) -> UInt16 {
        let r = try range(offset, 2, what)
        return UInt16(bytes[r.lowerBound]) | UInt16(bytes[r.lowerBound + 1]) << 8
    }

    func u32(_ offset: UInt64, _ what: String) throws(ELFError) -> UInt32 {
        let r = try range(offset, 4, what)
        let b = r.lowerBound
        return UInt32(bytes[b]) | UInt32(bytes[b + 1]) << 8 | UInt32(bytes[b + 2]) << 16 | UInt32(bytes[b + 3]) << 24
    }
}

/// A section header as stored.
private struct RawSection {
    let nameOffset: UInt32
    let type: ELFSectionType
    let flags: UInt32
    let address: UInt32
    let offset: UInt32
    let size: UInt32
    let link: UInt32
    let info: UInt32
    let addressAlignment: UInt32
    let entrySize: UInt32

    init(reader: ByteReader, at: UInt64) throws(ELFError) {
        let what = "section header at 0x" + String(at, radix: 16)
        _ = try reader.range(at, 40, what)
        nameOffset = try reader.u32(at, what)
        type = ELFSectionType(rawValue: try reader.u32(at &+ 4, what))
        flags = try reader.u32(at &+ 8, what)
        address = try reader.u32(at &+ 12, what)
        offset = try reader.u32(at &+ 16, what)
        size = try reader.u32(at &+ 20, what)
        link = try reader.u32(at &+ 24, what)
        info = try reader.u32(at &+ 28, what)
        addressAlignment = try reader.u32(at &+ 32, what)
        entrySize = try reader.u32(at &+ 36, what)
    }
}

/// A validated string table: type STRTAB, in bounds, non-empty, NUL-terminated,
/// so any in-range offset yields a terminated string.
private struct StringTable {
    let index: Int
    let bytes: ArraySlice<UInt8>
    let size: UInt32

    init(reader: ByteReader, sections: [RawSection], index: Int) throws(ELFError) {
        guard index >= 0, index < sections.count else {
            throw .badSectionIndex(what: "string table", index: index, count: sections.count)
        }
        let raw = sections[index]
        guard raw.type == .strtab else {
            throw .badStringTable(section: index, reason: "type is \(raw.type), not STRTAB")
        }
        guard raw.size > 0 else { throw .badStringTable(section: index, reason: "it is empty") }
        let r = try reader.range(UInt64(raw.offset), UInt64(raw.size), "string table \(index)")
        let slice = reader.bytes[r]
        guard slice.last == 0 else {
            throw .badStringTable(section: index, reason: "it does not end with a NUL byte")
        }
        self.index = index
        self.bytes = slice
        self.size = raw.size
    }

    func string(at offset: UInt32) throws(ELFError) -> String {
        guard offset < size else { throw .badStringOffset(section: index, offset: offset, size: size) }
        let start = bytes.startIndex + Int(truncatingIfNeeded: offset)
        // The table ends in NUL, so this always finds one.
        let end = bytes[start...].firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

/// Symbols with non-zero size sorted by start address, for containment lookups.
private struct AddressIndex: Sendable {
    struct Entry: Sendable {
        let start: UInt64
        let end: UInt64
        let symbol: Int
    }
    /// Sorted by start; among equal starts the preferred symbol comes last.
    let entries: [Entry]
    /// `maxEnd[i]` = largest `end` among `entries[0...i]`: lets the backward
    /// scan stop as soon as nothing earlier can reach the address.
    let maxEnd: [UInt64]

    init(symbols: [ELFSymbol], members: [Int]) {
        var entries = members.map { i in
            Entry(start: UInt64(symbols[i].address),
                  end: UInt64(symbols[i].address) + UInt64(symbols[i].size),
                  symbol: i)
        }
        entries.sort { a, b in
            if a.start != b.start { return a.start < b.start }
            let ra = ELFFile.bindingRank(symbols[a.symbol].binding)
            let rb = ELFFile.bindingRank(symbols[b.symbol].binding)
            if ra != rb { return ra < rb }
            return a.symbol > b.symbol   // earlier table entry preferred → sorts last
        }
        var maxEnd: [UInt64] = []
        maxEnd.reserveCapacity(entries.count)
        var running: UInt64 = 0
        for e in entries {
            running = max(running, e.end)
            maxEnd.append(running)
        }
        self.entries = entries
        self.maxEnd = maxEnd
    }

    func lookup(_ address: UInt32) -> Int? {
        let a = UInt64(address)
        // First entry whose start is > a.
        var lo = 0
        var hi = entries.count
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if entries[mid].start <= a { lo = mid + 1 } else { hi = mid }
        }
        var i = lo - 1
        while i >= 0 && maxEnd[i] > a {
            if entries[i].end > a { return entries[i].symbol }
            i -= 1
        }
        return nil
    }
}
