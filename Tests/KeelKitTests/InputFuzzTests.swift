// Fuzzing the two readers of untrusted input, the ELF reader and the manifest parser.
//
// Random and mutated inputs from a seeded generator (the same inputs on every run): no crash,
// no input that takes long, and every refusal a KeelError of one short line, exit code 2.
// The ELF inputs start from TinyARMImage, so no toolchain is needed; an image that still
// parses goes on through the call graph, the stack analysis and its report.

import Foundation
import XCTest
@testable import KeelKit

extension SplitMix64: RandomNumberGenerator {}

final class InputFuzzTests: XCTestCase {
    /// Longest time one input may take (a debug build on a busy 2-core machine).
    static let timeBound: Duration = .milliseconds(500)

    // MARK: - ELF

    func testMutatedImages() throws {
        var random = SplitMix64(seed: 0x4B45_454C_0001)
        var tiny = TinyARMImage()
        let good = tiny.bytes()
        // Damage where the reader looks (header, section headers, symbols, .stack_sizes), and anywhere.
        let hotSpots: [Range<Int>] = [
            0..<84,
            tiny.sectionHeaderOffset..<good.count,
            tiny.symbolTableOffset..<tiny.stringTableOffset,
            tiny.stackSizesOffset..<tiny.symbolTableOffset,
            0..<good.count,
        ]
        // Values that break arithmetic when they land in a count, offset or size field.
        let extremes: [UInt32] = [0, 1, 0xFFFF, 0xFFFF_FFFF, 0x8000_0000, UInt32(good.count), UInt32(good.count) - 1, 40, 16]
        var outcomes = Outcomes()
        for _ in 0..<3000 {
            var bytes = good
            switch Int.random(in: 0..<10, using: &random) {
            case 0:
                bytes = Array(bytes.prefix(Int.random(in: 0..<good.count, using: &random)))
            case 1:
                let at = Int.random(in: 0..<good.count, using: &random)
                bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: at)
            case 2...4:
                // A whole aligned word of a hot spot set to an extreme value.
                let spot = hotSpots.randomElement(using: &random)!
                let at = (Int.random(in: spot, using: &random) & ~3)
                if at + 4 <= bytes.count { bytes.replaceSubrange(at..<at + 4, with: TinyARMImage.u32(extremes.randomElement(using: &random)!)) }
            default:
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    let spot = hotSpots.randomElement(using: &random)!
                    bytes[Int.random(in: spot, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                }
            }
            outcomes.record(try readImage(bytes))
        }
        XCTAssertGreaterThan(outcomes.accepted, 100)
        XCTAssertGreaterThan(outcomes.refused, 100)
    }

    func testRandomBytesAsImages() throws {
        var random = SplitMix64(seed: 0x4B45_454C_0002)
        let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1]
        var outcomes = Outcomes()
        for round in 0..<1500 {
            let count = Int.random(in: 0...400, using: &random)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            // Most inputs get past the magic and the class checks, so the tables are read.
            if round % 4 != 0 { bytes.replaceSubrange(0..<min(magic.count, bytes.count), with: magic.prefix(bytes.count)) }
            if round % 2 == 0, bytes.count >= 20 { bytes.replaceSubrange(18..<20, with: TinyARMImage.u16(40)) }
            outcomes.record(try readImage(bytes))
        }
        XCTAssertGreaterThan(outcomes.refused, 1000)
    }

    /// Reads `bytes` as `keel stack` reads an image; a refusal must be one short line.
    func readImage(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> Bool {
        let started = ContinuousClock.now
        defer {
            let took = ContinuousClock.now - started
            XCTAssertLessThan(took, Self.timeBound, "\(bytes.count)-byte image took \(took)", file: file, line: line)
        }
        do {
            let elf: ELFFile
            do { elf = try ELFFile(bytes: bytes) } catch { throw KeelError.elf(error.description) }
            let report = try StackAnalysis.analyze(elf: elf, path: "fuzz.elf", board: nil, application: nil, layout: nil, demangler: nil)
            _ = StackReportText.render(report)
            return true
        } catch {
            assertOneShortLine(error, file: file, line: line)
            return false
        }
    }

    // MARK: - Manifest

    static let valid = """
        {"name": "fuzz", "tick_hz": 1000, "handler_stack": 2048,
         "tasks": [
           {"name": "a", "entry": "work", "priority": 2, "stack": 1024, "protection": ["paint", "sp-check"],
            "on_fault": {"restart": 3, "window_ms": 1000, "then": "reset"}},
           {"name": "b", "entry": "other", "priority": 1, "stack": {"segmented": {"initial": 1024, "max": 4096}}},
           {"name": "c", "entry": "third", "priority": 1, "stack": 2048, "protection": {"default": ["paint", "red-zone"]},
            "red_zone": 32, "guard": 64}
         ],
         "analysis": {"bounds": {"f": 64}, "recursion_depth": {"g": 4}, "indirect_calls": {"h": ["f"]}},
         "stack_check": "warn"}
        """

    func testRandomValuesInAValidManifest() throws {
        var random = SplitMix64(seed: 0x4B45_454C_0003)
        let valid = try JSONSerialization.jsonObject(with: Data(Self.valid.utf8))
        XCTAssertTrue(try readManifest(valid, board: BoardCatalog.all[0]), "the starting manifest is valid")
        var outcomes = Outcomes()
        for round in 0..<3000 {
            let board = BoardCatalog.all[round % BoardCatalog.all.count]
            var value: Any = valid
            if round % 10 == 0 {
                value = randomValue(depth: 4, using: &random)   // anything at all at the top
            } else {
                for _ in 0..<Int.random(in: 1...3, using: &random) { value = replacingSomething(in: value, using: &random) }
            }
            outcomes.record(try readManifest(value, board: board))
        }
        XCTAssertGreaterThan(outcomes.accepted, 50)
        XCTAssertGreaterThan(outcomes.refused, 1000)
    }

    func testMutatedManifestText() throws {
        var random = SplitMix64(seed: 0x4B45_454C_0004)
        let text = Array(Self.valid.utf8)
        let alphabet = Array(#"{}[]":,0123456789-.eE truefalsnul\"#.utf8) + [0x00, 0x0A, 0xC3, 0xA9, 0xFF]
        var outcomes = Outcomes()
        for round in 0..<3000 {
            var bytes = text
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
                case 2: bytes[at] = alphabet.randomElement(using: &random)!
                default: bytes = Array(bytes.prefix(at))
                }
                if bytes.isEmpty { break }
            }
            let board = BoardCatalog.all[round % BoardCatalog.all.count]
            let started = ContinuousClock.now
            do {
                outcomes.record(try readManifest(try Manifest.decode(Data(bytes), path: "keel.json"), board: board))
            } catch {
                assertOneShortLine(error)
                outcomes.record(false)
            }
            XCTAssertLessThan(ContinuousClock.now - started, Self.timeBound)
        }
        XCTAssertGreaterThan(outcomes.refused, 1000)
    }

    /// Checks `object` as `keel layout` does (manifest, then the RAM plan); a refusal must be one short line.
    func readManifest(_ object: Any, board: Board, file: StaticString = #filePath, line: UInt = #line) throws -> Bool {
        let started = ContinuousClock.now
        defer { XCTAssertLessThan(ContinuousClock.now - started, Self.timeBound, file: file, line: line) }
        do {
            let application = try Manifest.parse(object, path: "keel.json", directory: URL(fileURLWithPath: "/tmp"), board: board)
            _ = try LayoutPlanner.plan(application, on: board)
            return true
        } catch {
            assertOneShortLine(error, file: file, line: line)
            return false
        }
    }

    /// Any JSON value: numbers of every kind, strings (long, odd characters), arrays, objects.
    func randomValue(depth: Int, using random: inout SplitMix64) -> Any {
        let keys = ["name", "tasks", "tick_hz", "stack", "protection", "entry", "priority", "segmented", "initial", "max",
                    "default", "mps2-an505", "bounds", "on_fault", "restart", "paint", "x"]
        switch Int.random(in: 0..<(depth > 0 ? 12 : 9), using: &random) {
        case 0: return NSNull()
        case 1: return Bool.random(using: &random)
        case 2: return Int.random(in: -2...70_000, using: &random)
        case 3: return [0, 8, 16, 32, 256, 1024, 4096, 65536, 1 << 22, Int.max, Int.min].randomElement(using: &random)!
        case 4: return Double.random(in: -1e6...1e6, using: &random)
        case 5: return [1e300, -0.0, 0.5, 1e15, Double.greatestFiniteMagnitude].randomElement(using: &random)!
        case 6: return keys.randomElement(using: &random)!
        case 7: return ["", "auto", "kill", "restart", "sp-check", "a\nb", "\u{202E}x", "é", String(repeating: "z", count: 5000)]
            .randomElement(using: &random)!
        case 8: return String(repeating: "w", count: Int.random(in: 0...80, using: &random))
        case 9, 10:
            return (0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(depth: depth - 1, using: &random) }
        default:
            var object: [String: Any] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                object[keys.randomElement(using: &random)!] = randomValue(depth: depth - 1, using: &random)
            }
            return object
        }
    }

    /// `value` with one value somewhere inside replaced (or one key added or removed).
    func replacingSomething(in value: Any, using random: inout SplitMix64) -> Any {
        if var object = value as? [String: Any], !object.isEmpty {
            let key = object.keys.sorted().randomElement(using: &random)!
            switch Int.random(in: 0..<6, using: &random) {
            case 0: object[key] = randomValue(depth: 2, using: &random)
            case 1: object[key] = nil
            case 2: object[["unknown", "é", "\n", String(repeating: "k", count: 3000)].randomElement(using: &random)!] = 1
            default: object[key] = replacingSomething(in: object[key]!, using: &random)
            }
            return object
        }
        if var array = value as? [Any], !array.isEmpty {
            let index = Int.random(in: 0..<array.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0: array[index] = randomValue(depth: 2, using: &random)
            case 1: array.remove(at: index)
            case 2: array += Array(repeating: array[index], count: Int.random(in: 1...40, using: &random))
            default: array[index] = replacingSomething(in: array[index], using: &random)
            }
            return array
        }
        return randomValue(depth: 1, using: &random)
    }

    // MARK: - Checks

    struct Outcomes {
        var accepted = 0
        var refused = 0
        mutating func record(_ accepted: Bool) {
            if accepted { self.accepted += 1 } else { refused += 1 }
        }
    }

    func assertOneShortLine(_ error: any Error, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = error as? KeelError else {
            return XCTFail("not a KeelError: \(error)", file: file, line: line)
        }
        let text = error.description
        XCTAssertFalse(text.contains { $0.isNewline }, "one line: \(text.prefix(400))", file: file, line: line)
        XCTAssertLessThan(text.count, 400, "short: \(text.prefix(400))", file: file, line: line)
        XCTAssertEqual(error.exitCode, 2, text, file: file, line: line)
    }
}
