// LoadableImage: what `keel flash` writes into a target, taken from an ELF as GDB's `load` takes it.
//
// GDB's `load` writes each PT_LOAD program header's file bytes at its physical address (the
// LMA): `.data` goes to flash after the code, where the kernel's startup copies it to RAM, not
// to its RAM address. Bytes a segment only reserves (`.bss`, p_memsz beyond p_filesz) are not
// written; the startup code zeroes them. Each segment must lie inside the board's flash or RAM:
// an image linked for another board would otherwise be written to addresses that hold nothing
// (or a peripheral), and the error says which segment and which sections it holds.
//
// After the load the core starts as a reset would start it: SP from word 0 of the vector
// table, PC from word 1 (the reset handler). The table is the `.vectors` section the linker
// script puts first in flash, or the flash origin in an ELF without one.

import Foundation

public struct LoadableImage: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        /// The program header's index, as `readelf -l` counts them.
        public var index: Int
        /// Where the bytes go: the physical (load) address.
        public var address: UInt32
        public var bytes: [UInt8]
        /// The sections the segment holds, for reports and errors (".text, .rodata").
        public var sections: [String]

        public var end: UInt64 { UInt64(address) + UInt64(bytes.count) }

        public init(index: Int, address: UInt32, bytes: [UInt8], sections: [String] = []) {
            self.index = index
            self.address = address
            self.bytes = bytes
            self.sections = sections
        }

        /// "segment 1 (.data)", or "segment 1" when its sections are not known.
        public var name: String {
            "segment \(index)" + (sections.isEmpty ? "" : " (\(sections.joined(separator: ", ")))")
        }
    }

    public var segments: [Segment]
    /// Where the vector table starts: the reset values of SP and PC are its first two words.
    public var vectorTable: UInt32

    public init(segments: [Segment], vectorTable: UInt32) {
        self.segments = segments
        self.vectorTable = vectorTable
    }

    public var byteCount: Int { segments.reduce(0) { $0 + $1.bytes.count } }

    /// The image's loadable segments, each checked to lie in `board`'s flash or RAM.
    public init(elf: ELFFile, board: Board) throws(KeelError) {
        var segments: [Segment] = []
        for header in elf.programHeaders where header.type == .load && header.fileSize > 0 {
            let bytes: [UInt8]
            do { bytes = try elf.contents(of: header) } catch { throw .elf(error.description) }
            // The sections whose file bytes lie inside the segment's.
            let fileRange = UInt64(header.offset)..<(UInt64(header.offset) + UInt64(header.fileSize))
            let sections = elf.sections
                .filter { $0.flags.contains(.alloc) && $0.hasFileContents && $0.size > 0 && fileRange.contains(UInt64($0.offset)) }
                .map(\.name)
            let segment = Segment(index: header.index, address: header.physicalAddress, bytes: bytes, sections: sections)
            guard Self.fits(segment, in: board.flash) || Self.fits(segment, in: board.ram) else {
                throw .elf("\(segment.name) loads \(bytes.count) bytes at \(hex(segment.address))-\(hex(segment.end - 1)), outside "
                    + "\(board.name)'s flash (\(Self.describe(board.flash))) and RAM (\(Self.describe(board.ram))); "
                    + "was the image built for another board? (`keel boards` lists their maps)")
            }
            segments.append(segment)
        }
        guard !segments.isEmpty else { throw .elf("the image has no segment to load (no PT_LOAD program header with file bytes)") }
        let table = elf.section(named: ".vectors")?.address ?? board.flash.origin
        self.init(segments: segments, vectorTable: table)
        guard resetVector != nil else {
            throw .elf("no vector table to start from: nothing is loaded at \(hex(table)), where SP and the reset handler's address must be")
        }
    }

    /// SP and PC as a reset takes them: words 0 and 1 of the vector table. Nil when the image
    /// loads nothing there.
    public var resetVector: (stackPointer: UInt32, resetHandler: UInt32)? {
        guard let bytes = bytes(at: vectorTable, count: 8) else { return nil }
        return (TargetWords.word(bytes, at: 0), TargetWords.word(bytes, at: 4))
    }

    /// `count` loaded bytes at `address`, from the one segment that holds them all.
    public func bytes(at address: UInt32, count: Int) -> [UInt8]? {
        guard let segment = segments.first(where: { $0.address <= address && UInt64(address) + UInt64(count) <= $0.end }) else { return nil }
        let start = Int(address - segment.address)
        return Array(segment.bytes[start..<start + count])
    }

    static func fits(_ segment: Segment, in region: MemoryRegion) -> Bool {
        segment.address >= region.origin && segment.end <= region.end
    }

    static func describe(_ region: MemoryRegion) -> String {
        "\(hex(region.origin))-\(hex(region.end - 1))"
    }
}
