// Tests for ELFFile against a real Cortex-M image built at test time with clang + ld.lld.
//
// The fixture is compiled once per run and compared against llvm-nm and (when
// present) llvm-readelf --stack-sizes; a deterministic fuzz pass checks that
// damaged images only ever throw ELFError.

import Foundation
import XCTest
@testable import KeelKit

final class ELFFileTests: XCTestCase {

    // MARK: - Fixture

    /// Everything the tests need from the toolchain, captured once; the temp dir is gone afterwards.
    struct Fixture: Sendable {
        let elf: [UInt8]
        let object: [UInt8]
        /// The same source compiled with -ffunction-sections: one .stack_sizes section per function.
        let objectFunctionSections: [UInt8]
        /// `llvm-nm -S --defined-only` of the linked image, or nil if llvm-nm is missing.
        let nmELF: String?
        /// `llvm-readelf --stack-sizes` of the image and the object, or nil if llvm-readelf is missing.
        let readelfStackSizesELF: String?
        let readelfStackSizesObject: String?
    }

    enum FixtureError: Error, Sendable, CustomStringConvertible {
        case toolMissing(String)
        case failed(String)
        var description: String {
            switch self {
            case let .toolMissing(tool): return "\(tool) not found"
            case let .failed(message): return message
            }
        }
    }

    static let source = """
        volatile int sink;
        int counter = 5;
        static int zeroed[16];

        __attribute__((noinline)) int big(int n) {
            volatile char buf[200];
            for (int i = 0; i < 200; i++) buf[i] = (char)(i + n);
            return buf[n % 200];
        }

        __attribute__((noinline)) int leaf(int a, int b) { return a * b + 3; }

        __attribute__((noinline)) void fill(int v) {
            for (int i = 0; i < 16; i++) zeroed[i] = v + i;
            sink = zeroed[v & 15];
        }

        int main(void) {
            fill(counter);
            return big(leaf(counter, 2));
        }

        """

    /// Cortex-M style layout: code in flash at 0x08000000, .data in RAM loaded from flash, .bss NOLOAD.
    static let linkerScript = """
        MEMORY {
          FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 64K
          RAM (rwx)  : ORIGIN = 0x20000000, LENGTH = 16K
        }
        SECTIONS {
          .text : { *(.text*) *(.rodata*) } > FLASH
          .ARM.exidx : { *(.ARM.exidx*) } > FLASH
          .data : { *(.data*) } > RAM AT > FLASH
          .bss (NOLOAD) : { *(.bss*) *(COMMON) } > RAM
        }

        """

    static let fixtureResult: Result<Fixture, FixtureError> = buildFixture()

    func fixture() throws -> Fixture {
        switch Self.fixtureResult {
        case let .success(fixture):
            return fixture
        case let .failure(.toolMissing(tool)):
            throw XCTSkip("\(tool) not found; cannot build the ARM ELF fixture")
        case let .failure(error):
            XCTFail("fixture build failed: \(error)")
            throw error
        }
    }

    static func findTool(_ name: String) -> URL? {
        var dirs = ["/opt/swift/usr/bin"]
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            dirs += path.split(separator: ":").map(String.init)
        }
        for dir in dirs where !dir.isEmpty {
            let url = URL(fileURLWithPath: dir).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// Runs a tool; returns stdout, or throws with stderr on a non-zero exit.
    static func run(_ tool: URL, _ arguments: [String]) throws(FixtureError) -> String {
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw .failed("cannot run \(tool.path): \(error)")
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw .failed("\(tool.lastPathComponent) \(arguments.joined(separator: " ")) failed: "
                + String(decoding: stderr, as: UTF8.self))
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    static func buildFixture() -> Result<Fixture, FixtureError> {
        guard let clang = findTool("clang") else { return .failure(.toolMissing("clang")) }
        guard let lld = findTool("ld.lld") else { return .failure(.toolMissing("ld.lld")) }
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("keel-elf-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let c = dir.appendingPathComponent("fixture.c")
            let ld = dir.appendingPathComponent("link.ld")
            let o = dir.appendingPathComponent("fixture.o")
            let elf = dir.appendingPathComponent("fixture.elf")
            let oSplit = dir.appendingPathComponent("fixture-split.o")
            try source.write(to: c, atomically: true, encoding: .utf8)
            try linkerScript.write(to: ld, atomically: true, encoding: .utf8)
            _ = try run(clang, ["--target=thumbv7m-none-eabi", "-mcpu=cortex-m3", "-O1", "-fstack-size-section",
                                "-c", c.path, "-o", o.path])
            _ = try run(clang, ["--target=thumbv7m-none-eabi", "-mcpu=cortex-m3", "-O1", "-fstack-size-section",
                                "-ffunction-sections", "-c", c.path, "-o", oSplit.path])
            _ = try run(lld, ["-T", ld.path, "-z", "max-page-size=4096", "-e", "main", o.path, "-o", elf.path])
            let nm = try findTool("llvm-nm").map { tool throws(FixtureError) in
                try run(tool, ["-S", "--defined-only", elf.path])
            }
            let readelf = findTool("llvm-readelf")
            let stackELF = try readelf.map { tool throws(FixtureError) in try run(tool, ["--stack-sizes", elf.path]) }
            let stackObj = try readelf.map { tool throws(FixtureError) in try run(tool, ["--stack-sizes", o.path]) }
            return .success(Fixture(
                elf: [UInt8](try Data(contentsOf: elf)), object: [UInt8](try Data(contentsOf: o)),
                objectFunctionSections: [UInt8](try Data(contentsOf: oSplit)),
                nmELF: nm, readelfStackSizesELF: stackELF, readelfStackSizesObject: stackObj))
        } catch let error as FixtureError {
            return .failure(error)
        } catch {
            return .failure(.failed("fixture setup: \(error)"))
        }
    }

    /// `llvm-readelf --stack-sizes` output → (function name, size) pairs.
    static func parseReadelfStackSizes(_ text: String) -> [(name: String, size: UInt32)] {
        var result: [(name: String, size: UInt32)] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let space = trimmed.firstIndex(of: " "), let size = UInt32(trimmed[..<space]) else { continue }
            for name in trimmed[space...].split(separator: ",") {
                result.append((name.trimmingCharacters(in: .whitespaces), size))
            }
        }
        return result
    }

    // MARK: - Byte patching helpers

    static func readU32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    static func writeU32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    static func writeU16(_ bytes: inout [UInt8], _ at: Int, _ value: UInt16) {
        bytes[at] = UInt8(truncatingIfNeeded: value)
        bytes[at + 1] = UInt8(truncatingIfNeeded: value >> 8)
    }

    /// File offset of section `index`'s header (32-bit ELF: 40-byte headers at e_shoff).
    static func sectionHeaderOffset(_ bytes: [UInt8], _ index: Int) -> Int {
        Int(readU32(bytes, 32)) + index * 40
    }

    /// A valid 52-byte ELF32 LE header with no section or program headers.
    static func bareHeader() -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 52)
        header.replaceSubrange(0..<7, with: [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1])
        writeU16(&header, 16, 2)    // ET_EXEC
        writeU16(&header, 18, 40)   // EM_ARM
        writeU32(&header, 20, 1)    // EV_CURRENT
        return header
    }

    func expectError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line,
                     _ check: (ELFError) -> Bool) {
        do {
            let elf = try ELFFile(bytes: bytes)
            // Some damage only shows up on demand.
            _ = try elf.stackSizes()
            XCTFail("expected an ELFError", file: file, line: line)
        } catch {
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertFalse(error.description.isEmpty, file: file, line: line)
        }
    }

    // MARK: - Tests against the real image

    func testHeaderSectionsAndProgramHeaders() throws {
        let fx = try fixture()
        let elf = try ELFFile(bytes: fx.elf)
        XCTAssertEqual(elf.machine, ELFFile.machineARM)
        XCTAssertEqual(elf.fileType, ELFFile.typeExecutable)
        XCTAssertTrue(elf.isExecutable)
        XCTAssertEqual(elf.sections.first?.type, .null)

        let text = try XCTUnwrap(elf.section(named: ".text"))
        XCTAssertEqual(text.type, .progbits)
        XCTAssertTrue(text.flags.contains([.alloc, .execInstr]))
        XCTAssertEqual(text.address, 0x0800_0000)
        XCTAssertEqual(try elf.contents(of: text).count, Int(text.size))
        XCTAssertEqual(try elf.contents(of: text).startIndex, 0)

        let bss = try XCTUnwrap(elf.section(named: ".bss"))
        XCTAssertEqual(bss.type, .nobits)
        XCTAssertGreaterThanOrEqual(bss.size, 64)
        XCTAssertTrue(try elf.contents(of: bss).isEmpty)

        let data = try XCTUnwrap(elf.section(named: ".data"))
        XCTAssertEqual(data.address, 0x2000_0000)
        XCTAssertEqual(Array(try elf.contents(of: data)), [5, 0, 0, 0])   // int counter = 5

        let symtab = try XCTUnwrap(elf.section(named: ".symtab"))
        XCTAssertEqual(symtab.type, .symtab)
        XCTAssertEqual(elf.sections[Int(symtab.link)].name, ".strtab")
        XCTAssertNil(elf.section(named: ".nope"))

        // Entry is main with the Thumb bit.
        XCTAssertEqual(elf.entry, try XCTUnwrap(elf.address(ofSymbol: "main")) | 1)

        // .data is stored in flash (paddr) and runs in RAM (vaddr); .bss only takes RAM.
        let loads = elf.programHeaders.filter { $0.type == .load }
        XCTAssertFalse(loads.isEmpty)
        let dataSeg = try XCTUnwrap(loads.first { $0.virtualAddress == 0x2000_0000 })
        XCTAssertEqual(dataSeg.physicalAddress & 0xFF00_0000, 0x0800_0000)
        XCTAssertEqual(dataSeg.fileSize, 4)
        XCTAssertTrue(dataSeg.flags.contains([.read, .write]))
        let textSeg = try XCTUnwrap(loads.first { $0.virtualAddress == 0x0800_0000 })
        XCTAssertTrue(textSeg.flags.contains(.execute))
        XCTAssertTrue(loads.contains { $0.fileSize == 0 && $0.memorySize >= 64 })
    }

    func testSymbolsMatchLLVMNM() throws {
        let fx = try fixture()
        let elf = try ELFFile(bytes: fx.elf)
        let byName = Dictionary(elf.symbols.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

        let main = try XCTUnwrap(byName["main"])
        XCTAssertEqual(main.type, .function)
        XCTAssertEqual(main.binding, .global)
        XCTAssertTrue(main.isThumb)
        XCTAssertEqual(main.value, main.address | 1)
        XCTAssertEqual(elf.sections[Int(main.sectionIndex)].name, ".text")
        XCTAssertEqual(byName["counter"]?.type, .object)
        XCTAssertEqual(byName["counter"]?.isThumb, false)
        XCTAssertEqual(byName["zeroed"]?.binding, .local)
        XCTAssertEqual(byName["zeroed"]?.size, 64)
        XCTAssertEqual(byName["fixture.c"]?.type, .file)
        XCTAssertNil(elf.address(ofSymbol: "fixture.c"), "FILE symbols have no address")
        XCTAssertNil(elf.address(ofSymbol: "no_such_symbol"))

        guard let nm = fx.nmELF else { throw XCTSkip("llvm-nm not found") }
        // Lines: "addr size type name" or "addr type name" (no size).
        var compared = 0
        for line in nm.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3 || fields.count == 4, let addr = UInt32(fields[0], radix: 16) else { continue }
            let name = String(fields[fields.count - 1])
            let kind = fields[fields.count - 2]
            guard "TtDdBbRr".contains(kind) else { continue }
            XCTAssertEqual(elf.address(ofSymbol: name), addr, "address of \(name)")
            if fields.count == 4, let size = UInt32(fields[1], radix: 16) {
                XCTAssertEqual(elf.symbol(named: name)?.size, size, "size of \(name)")
            }
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 7, "expected big, leaf, fill, main, counter, sink, zeroed")
    }

    func testSymbolContaining() throws {
        let elf = try ELFFile(bytes: try fixture().elf)
        for name in ["big", "leaf", "fill", "main"] {
            let sym = try XCTUnwrap(elf.symbol(named: name))
            XCTAssertGreaterThan(sym.size, 0)
            XCTAssertEqual(elf.symbol(containing: sym.address)?.name, name)
            XCTAssertEqual(elf.symbol(containing: sym.address + sym.size / 2)?.name, name)
            XCTAssertEqual(elf.symbol(containing: sym.address + sym.size - 1)?.name, name)
            // A PC with the Thumb bit set still lands in the function.
            XCTAssertEqual(elf.symbol(containing: sym.value)?.name, name)
        }
        let big = try XCTUnwrap(elf.symbol(named: "big"))
        XCTAssertNotEqual(elf.symbol(containing: big.address + big.size)?.name, "big")

        // Data falls back to OBJECT symbols.
        let counter = try XCTUnwrap(elf.address(ofSymbol: "counter"))
        XCTAssertEqual(elf.symbol(containing: counter + 2)?.name, "counter")
        let zeroed = try XCTUnwrap(elf.address(ofSymbol: "zeroed"))
        XCTAssertEqual(elf.symbol(containing: zeroed + 63)?.name, "zeroed")

        XCTAssertNil(elf.symbol(containing: 0))
        XCTAssertNil(elf.symbol(containing: 0xFFFF_FFFF))
        XCTAssertNil(elf.symbol(containing: 0x0400_0000))
    }

    func testStackSizes() throws {
        let fx = try fixture()
        let elf = try ELFFile(bytes: fx.elf)
        let sizes = try elf.stackSizes()
        XCTAssertFalse(sizes.isEmpty)
        let big = try XCTUnwrap(elf.address(ofSymbol: "big"))
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(sizes[big]), 200)
        for name in ["leaf", "fill", "main"] {
            let addr = try XCTUnwrap(elf.address(ofSymbol: name))
            XCTAssertNotNil(sizes[addr], "no stack size for \(name)")
        }
        // Every key is a function start.
        for addr in sizes.keys {
            XCTAssertEqual(elf.symbol(containing: addr)?.address, addr)
        }

        if let readelf = fx.readelfStackSizesELF {
            let expected = Self.parseReadelfStackSizes(readelf)
            XCTAssertFalse(expected.isEmpty)
            for (name, size) in expected {
                let addr = try XCTUnwrap(elf.address(ofSymbol: name), name)
                XCTAssertEqual(sizes[addr], size, "stack size of \(name)")
            }
            XCTAssertEqual(expected.count, sizes.count)
        }
    }

    func testRelocatableObject() throws {
        let fx = try fixture()
        let obj = try ELFFile(bytes: fx.object)
        XCTAssertEqual(obj.fileType, ELFFile.typeRelocatable)
        XCTAssertTrue(obj.isRelocatable)
        XCTAssertTrue(obj.programHeaders.isEmpty)
        XCTAssertNotNil(obj.symbol(named: "big"))
        XCTAssertEqual(obj.symbol(named: "big")?.sectionIndex,
                       obj.section(named: ".text").map { UInt16($0.index) })

        // Unrelocated: ARM uses REL, so each stored address is the addend, i.e. the
        // function's offset in .text — which here equals the symbol's value.
        let entries = try obj.stackSizeEntries()
        XCTAssertEqual(entries.count, 4)
        let sizes = try obj.stackSizes()
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(sizes[try XCTUnwrap(obj.address(ofSymbol: "big"))]), 200)
        for entry in entries {
            XCTAssertEqual(obj.symbol(containing: entry.address)?.address, entry.address)
        }

        // With -ffunction-sections every function has its own .text.* and .stack_sizes
        // section, every stored address is 0, and stackSizes() keeps the largest frame.
        let split = try ELFFile(bytes: fx.objectFunctionSections)
        let splitEntries = try split.stackSizeEntries()
        XCTAssertEqual(splitEntries.count, 4)
        XCTAssertEqual(Set(splitEntries.map(\.section)).count, 4)
        XCTAssertTrue(splitEntries.allSatisfy { $0.address == 0 })
        XCTAssertEqual(try split.stackSizes(), [0: try XCTUnwrap(splitEntries.map(\.frameSize).max())])
        if let readelf = fx.readelfStackSizesObject {
            XCTAssertEqual(Self.parseReadelfStackSizes(readelf).map(\.size).sorted(),
                           entries.map(\.frameSize).sorted())
        }
    }

    func testContentsOfURL() throws {
        let fx = try fixture()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keel-elf-\(UUID().uuidString).elf")
        try Data(fx.elf).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let elf = try ELFFile(contentsOf: url)
        XCTAssertEqual(elf.symbols, try ELFFile(bytes: fx.elf).symbols)

        let missing = url.appendingPathExtension("missing")
        XCTAssertThrowsError(try ELFFile(contentsOf: missing)) { error in
            guard case let .unreadable(path, _)? = error as? ELFError else {
                return XCTFail("expected .unreadable, got \(error)")
            }
            XCTAssertEqual(path, missing.path)
        }
    }

    // MARK: - Specific errors

    func testErrorsOnBadHeaders() throws {
        expectError([]) { $0 == .tooShort(needed: 52, have: 0) }
        expectError([0x7F, 0x45]) { $0 == .tooShort(needed: 52, have: 2) }
        expectError(Array("#!/bin/sh\necho hi\n".utf8)) { $0 == .notELF }
        expectError([0x7F, 0x45, 0x4C, 0x46, 1, 1, 1]) { if case .tooShort = $0 { true } else { false } }

        let header = Self.bareHeader()
        XCTAssertNoThrow(try ELFFile(bytes: header), "a bare header with no tables is valid")
        XCTAssertTrue(try ELFFile(bytes: header).sections.isEmpty)

        var wrongMagic = header
        wrongMagic[1] = 0x46
        expectError(wrongMagic) { $0 == .notELF }
        var class64 = header
        class64[4] = 2
        expectError(class64) { $0 == .unsupportedClass(2) }
        var bigEndian = header
        bigEndian[5] = 2
        expectError(bigEndian) { $0 == .unsupportedEncoding(2) }
        var version = header
        Self.writeU32(&version, 20, 7)
        expectError(version) { $0 == .unsupportedVersion(7) }
    }

    func testErrorsOnBadTables() throws {
        let good = try fixture().elf
        let elf = try ELFFile(bytes: good)
        let symtab = try XCTUnwrap(elf.section(named: ".symtab"))
        let strtabIndex = Int(symtab.link)
        let stack = try XCTUnwrap(elf.section(named: ".stack_sizes"))

        // Section header table past the end of the file.
        var bytes = good
        Self.writeU32(&bytes, 32, UInt32(good.count - 8))
        expectError(bytes) { if case .outOfBounds = $0 { true } else { false } }

        // Section count so large the table can't fit.
        bytes = good
        Self.writeU16(&bytes, 48, 0xFFF0)
        expectError(bytes) { if case .outOfBounds = $0 { true } else { false } }

        // Section header entry size too small.
        bytes = good
        Self.writeU16(&bytes, 46, 8)
        expectError(bytes) { if case .badEntrySize = $0 { true } else { false } }

        // e_shstrndx out of range.
        bytes = good
        Self.writeU16(&bytes, 50, UInt16(elf.sections.count + 3))
        expectError(bytes) { $0 == .badSectionIndex(what: "e_shstrndx", index: elf.sections.count + 3,
                                                    count: elf.sections.count) }

        // A section whose offset + size overflows 32 bits.
        bytes = good
        let textHeader = Self.sectionHeaderOffset(good, try XCTUnwrap(elf.section(named: ".text")).index)
        Self.writeU32(&bytes, textHeader + 16, 0xFFFF_FF00)
        Self.writeU32(&bytes, textHeader + 20, 0x200)
        expectError(bytes) { if case .outOfBounds = $0 { true } else { false } }

        // Symbol table with entsize 0.
        bytes = good
        Self.writeU32(&bytes, Self.sectionHeaderOffset(good, symtab.index) + 36, 0)
        expectError(bytes) { if case .badEntrySize(_, 0, 16) = $0 { true } else { false } }

        // Symbol table linked to a section that does not exist.
        bytes = good
        Self.writeU32(&bytes, Self.sectionHeaderOffset(good, symtab.index) + 24, 999)
        expectError(bytes) { $0 == .badLink(section: symtab.index, link: 999) }

        // Symbol table linked to a non-string-table section.
        bytes = good
        Self.writeU32(&bytes, Self.sectionHeaderOffset(good, symtab.index) + 24, UInt32(symtab.index))
        expectError(bytes) { if case .badStringTable(symtab.index, _) = $0 { true } else { false } }

        // String table without its final NUL.
        bytes = good
        let strtab = elf.sections[strtabIndex]
        bytes[Int(strtab.offset + strtab.size - 1)] = 0x41
        expectError(bytes) { if case .badStringTable(strtabIndex, _) = $0 { true } else { false } }

        // Symbol name offset past the end of .strtab.
        bytes = good
        Self.writeU32(&bytes, Int(symtab.offset) + 16, 0x7FFF_0000)   // symbol 1's st_name
        expectError(bytes) { if case .badStringOffset(strtabIndex, 0x7FFF_0000, _) = $0 { true } else { false } }

        // .stack_sizes cut short by one byte: the last entry's ULEB or address is truncated.
        bytes = good
        Self.writeU32(&bytes, Self.sectionHeaderOffset(good, stack.index) + 20, stack.size - 1)
        expectError(bytes) { if case .truncatedStackSizes(stack.index, _) = $0 { true } else { false } }

        // .stack_sizes frame size that does not fit in 32 bits.
        bytes = good
        bytes.replaceSubrange(Int(stack.offset) + 4..<Int(stack.offset) + 9, with: [0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        expectError(bytes) { $0 == .stackSizeOverflow(section: stack.index, offset: 0) }

        // No .stack_sizes at all.
        XCTAssertThrowsError(try ELFFile(bytes: Self.bareHeader()).stackSizes()) { error in
            XCTAssertEqual(error as? ELFError, .missingSection(".stack_sizes"))
        }

        // A section from a different (bigger) file can't read out of bounds.
        let foreign = ELFSection(index: 1, name: ".text", type: .progbits, flags: [], address: 0,
                                 offset: UInt32(good.count - 2), size: 16, link: 0, info: 0,
                                 addressAlignment: 1, entrySize: 0)
        XCTAssertThrowsError(try elf.contents(of: foreign))
    }

    // MARK: - Fuzz

    func testFuzzedImagesNeverCrash() throws {
        let good = try fixture().elf
        let elf = try ELFFile(bytes: good)
        let shoff = Int(Self.readU32(good, 32))
        let shsize = elf.sections.count * 40
        let symtab = try XCTUnwrap(elf.section(named: ".symtab"))
        let stack = try XCTUnwrap(elf.section(named: ".stack_sizes"))
        // Damage concentrated where the parser looks, plus anywhere at all.
        let hotSpots: [Range<Int>] = [
            0..<52,
            shoff..<min(shoff + shsize, good.count),
            Int(symtab.offset)..<Int(symtab.offset + symtab.size),
            Int(stack.offset)..<Int(stack.offset + stack.size),
            0..<good.count,
        ]

        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {   // xorshift64
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

        var parsed = 0
        var rejected = 0
        for _ in 0..<3000 {
            var bytes = good
            if below(4) == 0 {
                bytes = Array(bytes.prefix(below(good.count)))
            } else {
                let flips = 1 + below(8)
                for _ in 0..<flips {
                    let spot = hotSpots[below(hotSpots.count)]
                    guard !spot.isEmpty else { continue }
                    let at = spot.lowerBound + below(spot.count)
                    bytes[at] ^= UInt8(truncatingIfNeeded: 1 + below(255))
                }
            }
            do {
                let f = try ELFFile(bytes: bytes)
                parsed += 1
                for section in f.sections { _ = try? f.contents(of: section) }
                _ = try? f.stackSizes()
                _ = try? f.stackSizeEntries()
                // The call graph and the analysis read the same damaged bytes: errors, no crash.
                if let graph = try? CallGraph(elf: f) {
                    let analysis = WorstCaseStack(graph: graph)
                    for index in graph.functions.indices.prefix(64) { _ = analysis.depth(of: index) }
                }
                for probe in [0, f.entry, 0x0800_0000, 0x0800_0040, 0x2000_0000, UInt32.max,
                              UInt32(truncatingIfNeeded: next())] {
                    _ = f.symbol(containing: probe)
                }
                for symbol in f.symbols.prefix(16) {
                    _ = f.address(ofSymbol: symbol.name)
                    _ = f.symbol(containing: symbol.value)
                }
            } catch {
                rejected += 1
                XCTAssertFalse(error.description.isEmpty)
            }
        }
        XCTAssertGreaterThan(parsed, 0)
        XCTAssertGreaterThan(rejected, 0)
    }
}
