// The GDB remote protocol client on its own: packet framing and checksums, the stream parser,
// addresses, and whole sessions against a scripted stub on a Unix socket (acknowledgements,
// chunked reads, a refused read, a silent target, nothing listening).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
@testable import KeelKit
import XCTest

final class GDBRemoteTests: XCTestCase {
    func testPacketsCarryTheirChecksumAndEscapeFramingBytes() {
        XCTAssertEqual(String(decoding: GDBPacket.encode("m0,4"), as: UTF8.self), "$m0,4#fd")
        XCTAssertEqual(String(decoding: GDBPacket.encode("?"), as: UTF8.self), "$?#3f")
        XCTAssertEqual(String(decoding: GDBPacket.encode(""), as: UTF8.self), "$#00")
        XCTAssertEqual(String(decoding: GDBPacket.encode("QStartNoAckMode"), as: UTF8.self), "$QStartNoAckMode#b0")
        // `#`, `$`, `}` and `*` go as `}` and the byte XOR 0x20; the checksum is over what is sent.
        let escaped = GDBPacket.encode("a#b$c}d*")
        XCTAssertEqual(Array(escaped.prefix(13)), Array("$a}\u{03}b}\u{04}c}]d}\n".utf8))
        let sent = escaped[1..<(escaped.count - 3)]
        XCTAssertEqual(String(decoding: escaped.suffix(2), as: UTF8.self), GDBPacket.hexDigits(GDBPacket.checksum(sent)))
        XCTAssertEqual(GDBPacket.decode(sent), Array("a#b$c}d*".utf8))
    }

    func testRepliesUndoRunLengthEncoding() {
        // "0* " is four zeros: the 0 and 32 - 29 = 3 more (GDB manual's example).
        XCTAssertEqual(String(decoding: GDBPacket.decode(Array("0* ".utf8)), as: UTF8.self), "0000")
        // `"` is 34: five more copies.
        XCTAssertEqual(String(decoding: GDBPacket.decode(Array("a5*\"01".utf8)), as: UTF8.self), "a55555501")
    }

    func testHexRoundTrips() {
        XCTAssertEqual(GDBPacket.hex([0x00, 0xA5, 0x7F, 0xFF]), "00a57fff")
        XCTAssertEqual(GDBPacket.bytes(fromHex: "00a57FFF"), [0x00, 0xA5, 0x7F, 0xFF])
        XCTAssertNil(GDBPacket.bytes(fromHex: "abc"))
        XCTAssertNil(GDBPacket.bytes(fromHex: "zz"))
    }

    func testTheParserSplitsAcknowledgementsAndPackets() {
        var parser = GDBStreamParser()
        parser.feed(Array("+$OK#9a-$T05th".utf8))
        XCTAssertEqual(parser.next(), .ack)
        XCTAssertEqual(parser.next(), .packet("OK"))
        XCTAssertEqual(parser.next(), .nack)
        XCTAssertNil(parser.next(), "half a packet waits for the rest")
        parser.feed(Array("read:01;#".utf8))
        XCTAssertNil(parser.next(), "the checksum's digits are not there yet")
        parser.feed(Array("00junk$OK#00".utf8))
        XCTAssertEqual(parser.next(), .corrupt("T05thread:01;"))
        XCTAssertEqual(parser.next(), .corrupt("OK"), "bytes outside packets are skipped")
        XCTAssertNil(parser.next())
    }

    func testAddresses() {
        XCTAssertEqual(GDBEndpoint.tcp(parsing: "localhost:1234"), .tcp(host: "localhost", port: 1234))
        XCTAssertEqual(GDBEndpoint.tcp(parsing: ":3333"), .tcp(host: "localhost", port: 3333))
        XCTAssertEqual(GDBEndpoint.tcp(parsing: "3333"), .tcp(host: "localhost", port: 3333))
        XCTAssertEqual(GDBEndpoint.tcp(parsing: "[::1]:2331"), .tcp(host: "::1", port: 2331))
        XCTAssertEqual(GDBEndpoint.tcp(parsing: "[::1]:2331")?.description, "[::1]:2331")
        for bad in ["", "host:", "host:0", "host:70000", ":port", "::1:2", "[::1]", "a b"] {
            XCTAssertNil(GDBEndpoint.tcp(parsing: bad), bad)
        }
    }

    func testASessionReadsInChunksWithAndWithoutAcknowledgements() throws {
        for acknowledges in [true, false] {
            let memory = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let stub = try FakeStub(noAckMode: !acknowledges) { packet in
                if packet.hasPrefix("m") {
                    let parts = packet.dropFirst().split(separator: ",").map { Int($0, radix: 16)! }
                    let start = parts[0] - 0x2000_0000
                    return GDBPacket.hex(memory[start..<(start + parts[1])])
                }
                if packet.hasPrefix("p") { return "" }
                if packet == "g" { return String(repeating: "00000000", count: 13) + "f0ff0020" + String(repeating: "00000000", count: 3) }
                return nil
            }
            let target = try GDBRemote(connectingTo: .unixSocket(path: stub.path), timeout: 2)
            XCTAssertEqual(try target.read(0x2000_0000, count: 3000), memory)
            XCTAssertEqual(try target.register(13), 0x2000_FFF0, "SP from `g` when `p` is not supported")
            target.close()
            let requests = stub.received.filter { $0.hasPrefix("m") }
            XCTAssertEqual(requests, ["m20000000,400", "m20000400,400", "m20000800,3b8"], "at most 1024 bytes a request")
            XCTAssertEqual(stub.received.first, "?")
            XCTAssertEqual(stub.received.last, "D", "a halted target is detached, so it runs on")
        }
    }

    func testARefusedReadAndASilentTargetAreErrorsNotHangs() throws {
        let stub = try FakeStub { $0.hasPrefix("m") ? "E14" : nil }
        let target = try GDBRemote(connectingTo: .unixSocket(path: stub.path), timeout: 2)
        XCTAssertThrowsError(try target.read(0x2000_0600, count: 4)) { error in
            XCTAssertEqual((error as? KeelError)?.description,
                           "the target at \(stub.path) refused to read 4 bytes at 0x20000600 (memory read refused: an E.. reply)")
            XCTAssertEqual((error as? KeelError)?.exitCode, 1)
        }
        XCTAssertNil(try target.readIfAllowed(0x2000_0600, count: 4))

        let silent = try FakeStub(silent: true) { (_: String) in nil }
        let start = Date()
        XCTAssertThrowsError(try GDBRemote(connectingTo: .unixSocket(path: silent.path), timeout: 0.5)) { error in
            XCTAssertTrue("\(error)".contains("is not responding: no answer to '?'"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)

        XCTAssertThrowsError(try GDBRemote(connectingTo: .unixSocket(path: stub.path + ".missing"), timeout: 1)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot connect to the GDB stub at \(stub.path).missing: No such file or directory"), "\(error)")
        }
    }
}

/// A scripted GDB stub on a Unix socket, serving one session on its own thread: `?` gets a
/// stop reply, `QStartNoAckMode` "OK" when `noAckMode`, `D` "OK", `c` nothing, anything else `reply`'s
/// answer (nil: an empty packet, "not supported"). A silent stub accepts and never answers.
/// It keeps every packet as sent (`raw`: escapes in place) and as meant (`received`, `bytes`).
final class FakeStub: @unchecked Sendable {
    let path: String
    private let listener: Int32
    private let lock = NSLock()
    private var packets: [(raw: [UInt8], bytes: [UInt8])] = []
    var received: [String] { lock.withLock { packets.map { String(decoding: $0.bytes, as: UTF8.self) } } }
    /// Each packet's data between `$` and `#`, as it came over the wire.
    var raw: [[UInt8]] { lock.withLock { packets.map(\.raw) } }
    /// Each packet's data with its escapes undone.
    var bytes: [[UInt8]] { lock.withLock { packets.map(\.bytes) } }
    private var closed = false
    /// The client has closed the connection (or detached).
    var isClosed: Bool { lock.withLock { closed } }

    convenience init(noAckMode: Bool = true, silent: Bool = false, reply: @escaping @Sendable (String) -> String?) throws {
        try self.init(noAckMode: noAckMode, silent: silent, replyToBytes: { reply(String(decoding: $0, as: UTF8.self)) })
    }

    init(noAckMode: Bool = true, silent: Bool = false, replyToBytes reply: @escaping @Sendable ([UInt8]) -> String?) throws {
        path = "/tmp/keel-stub-\(UUID().uuidString.prefix(8)).sock"
        #if canImport(Glibc)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        listener = descriptor
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(descriptor, 1) == 0 else { throw XCTSkip("cannot listen on a Unix socket here") }
        Thread.detachNewThread { [self] in
            let connection = accept(descriptor, nil, nil)
            unlink(path)  // one session: the name is not needed any more
            guard connection >= 0 else { return }
            defer {
                _ = close(connection)
                lock.withLock { closed = true }
            }
            if silent { Thread.sleep(forTimeInterval: 5); return }
            var pending: [UInt8] = []
            var acknowledging = true
            var buffer = [UInt8](repeating: 0, count: 65536)
            // A client that has gone (after `c`, say) must not end the test process with SIGPIPE.
            #if canImport(Glibc)
            func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
            #else
            func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) } }
            #endif
            while true {
                let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
                guard count > 0 else { return }
                pending += buffer[0..<count]
                // `$data#cs`; acknowledgements and anything else between packets are dropped.
                while let start = pending.firstIndex(of: UInt8(ascii: "$")),
                      let hash = pending[start...].firstIndex(of: UInt8(ascii: "#")), pending.count >= hash + 3 {
                    let raw = Array(pending[(start + 1)..<hash])
                    pending.removeFirst(hash + 3)
                    let data = GDBPacket.decode(raw)
                    let packet = String(decoding: data, as: UTF8.self)
                    lock.withLock { packets.append((raw, data)) }
                    if acknowledging { send(Array("+".utf8)) }
                    switch packet {
                    case "?": send(GDBPacket.encode("T05thread:01;"))
                    case "QStartNoAckMode":
                        send(GDBPacket.encode(noAckMode ? "OK" : ""))
                        if noAckMode { acknowledging = false }
                    case "D": send(GDBPacket.encode("OK")); return
                    case "c": break  // running: a stub answers only when the target stops
                    default: send(GDBPacket.encode(reply(data) ?? ""))
                    }
                }
            }
        }
    }

    deinit { _ = close(listener) }
}
