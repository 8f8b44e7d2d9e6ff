// A minimal linked Cortex-M image built byte by byte, for tests that need an ELF without a toolchain.
//
// Two tasks' entries and a leaf, as `keel build` names them, in a .text section with a
// .stack_sizes record per function, a symbol table and a LOAD segment: enough for ELFFile,
// the call graph and the stack analysis to read end to end. The fields tests like to damage
// are at known offsets (`sectionHeaderOffset`, `symbolTableOffset`, ...).

import Foundation

struct TinyARMImage {
    /// ELF32 header fields a test may change before building.
    var machine: UInt16 = 40        // EM_ARM
    var elfClass: UInt8 = 1         // ELFCLASS32
    var encoding: UInt8 = 1         // ELFDATA2LSB

    static let textAddress: UInt32 = 0x100
    /// Read-only data (log literals), when a test sets it: a `.rodata` section at this address.
    var rodata: [UInt8]? = nil
    static let rodataAddress: UInt32 = 0x4000
    /// A `$d` mapping symbol of a section that is not code (as .debug_* sections have in an
    /// image built with debug info), whose value falls inside .text at this address.
    var foreignDataMappingSymbol: UInt32? = nil
    /// keel_entry_a: push {r7, lr}; bl leaf; pop {r7, pc}
    /// keel_entry_idle: b .
    /// leaf: sub sp, #16; add sp, #16; bx lr
    static let functions: [(name: String, offset: UInt32, code: [UInt16], frame: UInt32)] = [
        ("keel_entry_a", 0, [0xB580, 0, 0, 0xBD80], 8),
        ("keel_entry_idle", 8, [0xE7FE], 0),
        ("leaf", 12, [0xB084, 0xB004, 0x4770], 16),
    ]

    private(set) var sectionHeaderOffset = 0
    private(set) var symbolTableOffset = 0
    private(set) var stackSizesOffset = 0
    private(set) var stringTableOffset = 0

    mutating func bytes() -> [UInt8] {
        // .text, with the bl from keel_entry_a (at 0x102) to leaf encoded in place.
        var text: [UInt8] = []
        for function in Self.functions {
            while text.count < Int(function.offset) { text.append(0) }
            for halfword in function.code { text += Self.u16(halfword) }
        }
        let call = Self.branchWithLink(from: Self.textAddress + 2, to: Self.textAddress + Self.functions[2].offset)
        text.replaceSubrange(2..<6, with: Self.u16(call.first) + Self.u16(call.second))

        var stackSizes: [UInt8] = []
        for function in Self.functions {
            stackSizes += Self.u32(Self.textAddress + function.offset)
            stackSizes.append(UInt8(function.frame))   // ULEB128, every frame < 128
        }
        var strings: [UInt8] = [0]
        var symbols = [UInt8](repeating: 0, count: 16)   // the null symbol
        if let foreignDataMappingSymbol {
            let name = UInt32(strings.count)
            strings += Array("$d".utf8) + [0]
            symbols += Self.u32(name) + Self.u32(foreignDataMappingSymbol) + Self.u32(0)
            symbols += [0x00, 0] + Self.u16(2)   // LOCAL NOTYPE, in section 2 (.stack_sizes, not code)
        }
        for function in Self.functions {
            let name = UInt32(strings.count)
            strings += Array(function.name.utf8) + [0]
            let size = UInt32(function.code.count * 2)
            symbols += Self.u32(name) + Self.u32((Self.textAddress + function.offset) | 1) + Self.u32(size)
            symbols += [0x12, 0] + Self.u16(1)   // GLOBAL FUNC, default visibility, in section 1
        }
        let sectionNames = ["", ".text", ".stack_sizes", ".symtab", ".strtab", ".shstrtab"] + (rodata == nil ? [] : [".rodata"])
        var names: [UInt8] = []
        var nameOffsets: [UInt32] = []
        for name in sectionNames {
            nameOffsets.append(UInt32(names.count))
            names += Array(name.utf8) + [0]
        }

        // File: header, one program header, then the sections from 0x100, then the section headers.
        var file = [UInt8](repeating: 0, count: Int(Self.textAddress))
        func append(_ contents: [UInt8]) -> UInt32 {
            while file.count % 4 != 0 { file.append(0) }
            let offset = UInt32(file.count)
            file += contents
            return offset
        }
        let textOffset = append(text)
        let stackOffset = append(stackSizes)
        let symbolOffset = append(symbols)
        let stringOffset = append(strings)
        let namesOffset = append(names)
        let rodataOffset = rodata.map { append($0) }
        while file.count % 4 != 0 { file.append(0) }
        let headersOffset = UInt32(file.count)
        stackSizesOffset = Int(stackOffset)
        symbolTableOffset = Int(symbolOffset)
        stringTableOffset = Int(stringOffset)
        sectionHeaderOffset = Int(headersOffset)

        // (name, type, flags, address, offset, size, link, info, alignment, entry size)
        var sections: [[UInt32]] = [
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [nameOffsets[1], 1, 0x6, Self.textAddress, textOffset, UInt32(text.count), 0, 0, 4, 0],
            [nameOffsets[2], 1, 0x80, 0, stackOffset, UInt32(stackSizes.count), 1, 0, 1, 0],
            [nameOffsets[3], 2, 0, 0, symbolOffset, UInt32(symbols.count), 4, 1, 4, 16],
            [nameOffsets[4], 3, 0, 0, stringOffset, UInt32(strings.count), 0, 0, 1, 0],
            [nameOffsets[5], 3, 0, 0, namesOffset, UInt32(names.count), 0, 0, 1, 0],
        ]
        if let rodata, let rodataOffset {   // PROGBITS, ALLOC
            sections.append([nameOffsets[6], 1, 0x2, Self.rodataAddress, rodataOffset, UInt32(rodata.count), 0, 0, 1, 0])
        }
        for section in sections { file += section.flatMap(Self.u32) }

        var header: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, elfClass, encoding, 1] + [UInt8](repeating: 0, count: 9)
        header += Self.u16(2) + Self.u16(machine) + Self.u32(1)           // ET_EXEC, e_machine, EV_CURRENT
        header += Self.u32(Self.textAddress | 1) + Self.u32(52) + Self.u32(headersOffset)   // entry, phoff, shoff
        header += Self.u32(0x0500_0200)                                   // EABI 5, soft float
        header += Self.u16(52) + Self.u16(32) + Self.u16(1)               // ehsize, phentsize, phnum
        header += Self.u16(40) + Self.u16(UInt16(sections.count)) + Self.u16(5)   // shentsize, shnum, shstrndx
        // One LOAD segment: .text, read and execute.
        header += Self.u32(1) + Self.u32(textOffset) + Self.u32(Self.textAddress) + Self.u32(Self.textAddress)
        header += Self.u32(UInt32(text.count)) + Self.u32(UInt32(text.count)) + Self.u32(5) + Self.u32(4)
        file.replaceSubrange(0..<header.count, with: header)
        return file
    }

    /// Thumb-2 `bl` (T1) from the instruction at `from` to `to`, a short forward call.
    static func branchWithLink(from: UInt32, to: UInt32) -> (first: UInt16, second: UInt16) {
        let offset = to &- (from &+ 4)
        // S = 0 and I1 = I2 = 0 for a short forward offset, so J1 = J2 = 1.
        let first = 0xF000 | UInt16((offset >> 12) & 0x3FF)
        let second = 0xF800 | UInt16((offset >> 1) & 0x7FF)
        return (first, second)
    }

    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func u32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
