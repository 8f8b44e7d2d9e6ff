// Log records decoded against a tiny image: the text `print` would have shown, records split
// over lines, and a clear line (never a crash) for every record that cannot be decoded.

@testable import KeelKit
import Foundation
import XCTest

final class LogDecoderTests: XCTestCase {
    /// The literals at 0x4000: "x " (0x4000, 2), " at " (0x4002, 4), "é!" (0x4006, 3),
    /// "ready" (0x4009, 5), then two bytes that are not UTF-8 (0x400e, 2).
    static let literals = Array("x  at é!ready".utf8) + [0xC3, 0x28]

    func decoder() throws -> LogDecoder {
        var image = TinyARMImage()
        image.rodata = Self.literals
        return LogDecoder(elf: try ELFFile(bytes: image.bytes()))
    }

    func decode(_ record: String) throws -> String? {
        var decoder = try decoder()
        return decoder.decode("\u{1E}" + record)
    }

    func testTwoIntegersAsPrintShowsThem() throws {
        XCTAssertEqual(try decode("S4000,2U3S4002,4U2aL0"), "x 3 at 42")
        XCTAssertEqual(try decode("S4009,5L0"), "ready")
        XCTAssertEqual(try decode("S4006,3L0"), "é!")
        XCTAssertEqual(try decode("L0"), "")
        XCTAssertTrue(LogDecoder.isRecord("\u{1E}L0"))
        XCTAssertFalse(LogDecoder.isRecord("x 3 at 42"))
    }

    func testEveryArgumentKind() throws {
        // Signed words are two's complement; H gives the high word of a 64-bit value.
        XCTAssertEqual(try decode("Dffffffd6U0D80000000L0"), "-420-2147483648")
        XCTAssertEqual(try decode("S4000,2D7fffffffS4002,4UffffffffL0"), "x 2147483647 at 4294967295")
        XCTAssertEqual(try decode("H100U5L0"), "1099511627781")
        XCTAssertEqual(try decode("HffffffffD4d2fa200L0"), "-3000000000")
        XCTAssertEqual(try decode("XbeefS4002,4Xf9S4002,4H1X0L0"), "0xbeef at 0xf9 at 0x100000000")
        XCTAssertEqual(try decode("B1S4002,4B0L0"), "true at false")
        XCTAssertEqual(try decode("C78C2603L0"), "x☃")
    }

    func testLevels() throws {
        XCTAssertEqual(try decode("S4009,5L1"), "warning: ready")
        XCTAssertEqual(try decode("S4009,5L2"), "error: ready")
    }

    /// A record longer than a console line comes in parts, joined by their owner even when
    /// other lines come in between.
    func testRecordSplitOverLinesIsJoined() throws {
        var decoder = try decoder()
        XCTAssertNil(decoder.decode("\u{1E}S4000,2U3~2"))
        XCTAssertNil(decoder.decode("\u{1E}S4009,5~0"))
        XCTAssertEqual(decoder.decode("\u{1E}S4009,5L0"), "ready")
        XCTAssertEqual(decoder.decode("\u{1E}~2S4002,4~2"), nil)
        XCTAssertEqual(decoder.decode("\u{1E}~2U2aL0"), "x 3 at 42")
        XCTAssertEqual(decoder.decode("\u{1E}~0U1L1"), "warning: ready1")
        XCTAssertEqual(decoder.finish(), [])
    }

    func testUndecodableRecordsSaySo() throws {
        let cases: [(String, String)] = [
            ("S5000,3L0", "the literal at 0x00005000 (3 bytes) is not in the image"),
            ("S400c,8L0", "the literal at 0x0000400c (8 bytes) is not in the image"),
            ("S400e,2L0", "the literal at 0x0000400e is not UTF-8"),
            ("Sffffffff,ffffffffL0", "the literal at 0xffffffff (4294967295 bytes) is not in the image"),
            ("S4000U3L0", "a literal has no length"),
            ("S4000,2", "it has no level at its end"),
            ("", "it has no level at its end"),
            ("U3L0U4", "it has no level at its end"),
            ("L0U4L0", "field 'L' in the middle of the record"),
            ("UL0", "field 'U' has no hex digits"),
            ("U123456789L0", "field 'U' has more than 8 hex digits"),
            ("UABCL0", "field 'U' has no hex digits"),
            ("Q1L0", "unknown field tag 'Q'"),
            ("U1\tL0", "unknown field tag '\\t'"),
            ("B2L0", "a Bool is 2"),
            ("Cd800L0", "55296 is not a Unicode scalar"),
            ("H1B1L0", "a high word is not followed by a number"),
            ("H1L0", "a high word is not followed by a number"),
            (",2L0", "field ',' in the middle of the record"),
            ("U1L3", "unknown level 3"),
            ("~5U1L0", "it continues a record whose start never came"),
        ]
        for (record, reason) in cases {
            XCTAssertEqual(try decode(record), "<undecodable log record: \(reason); record \"\(record)\">", record)
        }
    }

    func testRecordCutOffByTheEndOfTheRun() throws {
        var decoder = try decoder()
        XCTAssertNil(decoder.decode("\u{1E}S4000,2U3~1"))
        XCTAssertEqual(decoder.finish(), ["<undecodable log record: the run ended before its end; record \"S4000,2U3\">"])
        XCTAssertEqual(decoder.finish(), [])
    }

    func testUnreadableImage() {
        var decoder = LogDecoder(imageAt: URL(fileURLWithPath: "/nonexistent/keel-log.elf"))
        let line = decoder.decode("\u{1E}S4000,2L0") ?? ""
        XCTAssertTrue(line.hasPrefix("<undecodable log record: cannot read the image keel-log.elf"), line)
    }

    /// Whatever the bytes after the marker, decoding returns a line or waits for more; it
    /// never traps.
    func testArbitraryRecordsNeverCrash() throws {
        var decoder = try decoder()
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("SUDXBCHL~,0123456789abcdefABZ \u{1E}é")
        for _ in 0..<3000 {
            let length = Int.random(in: 0...24, using: &generator)
            let record = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            if let text = decoder.decode("\u{1E}" + record), text.hasPrefix("<undecodable") {
                XCTAssertTrue(text.hasSuffix("\">"), text)
            }
        }
        _ = decoder.finish()
    }
}
