// GDBRemote: a small client of the GDB remote serial protocol, enough to halt a target, read
// and write its memory and registers, load an image into it, and let it run again (`keel top`,
// `keel run --timeout`, `keel flash`).
//
// Why its own client: the task table needs a few memory reads while the target is halted, not
// a debugger session, and QEMU's gdb stub, OpenOCD and probe-rs all speak this protocol.
// Why POSIX sockets: Foundation on Linux has no plain TCP or Unix-socket client with read
// timeouts. Every wait here ends after `timeout` seconds, so a dead target is an error (its
// message says which request went unanswered), never a hang.
//
// The protocol (GDB manual, appendix "GDB Remote Serial Protocol"): a packet is `$data#cs`,
// cs the sum of data's bytes modulo 256 as two hex digits. Each side answers a packet with
// `+` (or `-`: send it again) until `QStartNoAckMode` turns acknowledgements off. Inside data,
// `}` escapes `#`, `$`, `}` and `*` (the next byte is XORed with 0x20), and a reply may
// run-length encode a repeat as `X*n`: n - 29 more copies of X. A stop reply starts with `S`
// or `T`; the byte 0x03 outside a packet asks a running target to stop. In all-stop mode (the
// only one used here) the target is halted after the `?` query that opens a session.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Where a GDB stub listens: a TCP port or a Unix socket.
public enum GDBEndpoint: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: UInt16)
    case unixSocket(path: String)

    /// "HOST:PORT", ":PORT" or "PORT" (this machine), "[IPv6]:PORT"; nil for anything else.
    public static func tcp(parsing text: String) -> GDBEndpoint? {
        var host = "localhost", portText = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":") {
            if colon != text.startIndex { host = String(text[..<colon]) }
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(":") || text.hasPrefix("["),
              let port = UInt16(portText), port > 0 else { return nil }
        return .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket(let path): path
        }
    }
}

/// The protocol's framing, apart from any connection.
public enum GDBPacket {
    /// The modulo-256 sum the packet's trailer carries.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt8 {
        bytes.reduce(0) { $0 &+ $1 }
    }

    /// `$payload#cs`, with `#`, `$`, `}` and `*` in the payload escaped.
    public static func encode(_ payload: String) -> [UInt8] {
        encode(bytes: Array(payload.utf8))
    }

    /// `$payload#cs` for a payload that may hold any byte (`X`, `vFlashWrite`), escaped.
    public static func encode(bytes payload: [UInt8]) -> [UInt8] {
        let data = escape(payload)
        let sum = checksum(data)
        return [UInt8(ascii: "$")] + data + [UInt8(ascii: "#")] + Array(hexDigits(sum).utf8)
    }

    /// The bytes a packet must escape: its framing (`#`, `$`), the escape itself, and `*`,
    /// which would read as run-length encoding.
    public static func needsEscape(_ byte: UInt8) -> Bool {
        byte == 0x23 || byte == 0x24 || byte == 0x7D || byte == 0x2A
    }

    /// Each byte that `needsEscape` as `}` and the byte XOR 0x20; every other byte as it is.
    public static func escape(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var data: [UInt8] = []
        for byte in bytes {
            if needsEscape(byte) { data += [UInt8(ascii: "}"), byte ^ 0x20] } else { data.append(byte) }
        }
        return data
    }

    /// A packet's data as sent (between `$` and `#`) back to its bytes: escapes undone,
    /// run-length encoding expanded.
    public static func decode(_ raw: some Collection<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = raw.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "}"):
                if let escaped = iterator.next() { bytes.append(escaped ^ 0x20) }
            case UInt8(ascii: "*"):
                // X*n: n - 29 more copies of the byte before (n is a printable character).
                if let count = iterator.next(), let last = bytes.last, count >= 29 {
                    bytes += Array(repeating: last, count: Int(count) - 29)
                }
            default:
                bytes.append(byte)
            }
        }
        return bytes
    }

    /// Bytes as lowercase hex, two digits each, in order (memory is sent this way).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map(hexDigits).joined()
    }

    /// Hex digit pairs back to bytes; nil when the text is not an even run of hex digits.
    public static func bytes(fromHex text: some StringProtocol) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func hexDigits(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }

    static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Splits the bytes a stub sends into acknowledgements and packets.
public struct GDBStreamParser: Sendable {
    public enum Event: Equatable, Sendable {
        case ack
        /// The stub asks for the last packet again.
        case nack
        /// A packet's decoded data.
        case packet(String)
        /// A packet whose checksum does not match its data.
        case corrupt(String)
    }

    var pending: [UInt8] = []

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) { pending += bytes }

    /// The next complete event, or nil when more bytes are needed. Bytes outside a packet
    /// other than `+` and `-` are skipped.
    public mutating func next() -> Event? {
        while let first = pending.first {
            switch first {
            case UInt8(ascii: "+"): pending.removeFirst(); return .ack
            case UInt8(ascii: "-"): pending.removeFirst(); return .nack
            case UInt8(ascii: "$"):
                // `#` never appears escaped inside data, so the first one ends it.
                guard let hash = pending.firstIndex(of: UInt8(ascii: "#")), pending.count >= hash + 3 else { return nil }
                let raw = pending[1..<hash]
                let sent = GDBPacket.bytes(fromHex: String(decoding: pending[(hash + 1)...(hash + 2)], as: UTF8.self))?.first
                let data = String(decoding: GDBPacket.decode(raw), as: UTF8.self)
                pending.removeFirst(hash + 3)
                return sent == GDBPacket.checksum(raw) ? .packet(data) : .corrupt(data)
            default:
                pending.removeFirst()
            }
        }
        return nil
    }
}

/// What a task-table reader needs from a target: its memory.
public protocol TargetMemory {
    /// `count` bytes from `address`; throws when the target cannot or will not read them.
    mutating func read(_ address: UInt32, count: Int) throws(KeelError) -> [UInt8]
}

/// One session with a GDB stub. Not shared between threads.
public final class GDBRemote: TargetMemory {
    public let endpoint: GDBEndpoint
    /// Seconds any reply may take before the target counts as not responding.
    public var timeout: Double
    /// Bytes per `m` request (each comes back as twice as many hex digits).
    public static let memoryChunk = 1024

    private var descriptor: Int32
    private var parser = GDBStreamParser()
    /// Packets that arrived while an acknowledgement was awaited (a stop reply, say).
    private var early: [String] = []
    private var acknowledging = true
    /// True after `resume` until `halt`: the stub then answers nothing but 0x03.
    public private(set) var isRunning = false

    /// Connects and opens the session (`?`, then `QStartNoAckMode` when the stub has it);
    /// the target is halted afterwards. `startHint` ends the message when nothing listens on a
    /// TCP port: what to start there (by default `keel run --gdb-listen`).
    public init(connectingTo endpoint: GDBEndpoint, timeout: Double = 3, startHint: String? = nil) throws(KeelError) {
        self.endpoint = endpoint
        self.timeout = timeout
        descriptor = try Self.connect(endpoint, timeout: timeout, startHint: startHint)
        do {
            _ = try request("?", expectingStop: true)
            // Stubs that do not know it answer with an empty packet and keep acknowledging.
            if try request("QStartNoAckMode") == "OK" { acknowledging = false }
        } catch {
            Self.closeDescriptor(descriptor)
            descriptor = -1
            throw error
        }
    }

    deinit { close() }

    /// Ends the session: a halted target is detached (and so runs on), then the connection closes.
    public func close() {
        guard descriptor >= 0 else { return }
        if !isRunning { _ = try? request("D") }
        disconnect()
    }

    /// Closes the connection without detaching: a halted target stays halted for the next
    /// debugger (`keel flash --halt`, then gdb), a running one runs on (`keel flash`).
    public func disconnect() {
        guard descriptor >= 0 else { return }
        Self.closeDescriptor(descriptor)
        descriptor = -1
    }

    /// Asks the stub to end the target (`k`; QEMU exits). Nothing answers; the connection closes.
    public func kill() {
        guard descriptor >= 0 else { return }
        try? send("k")
        disconnect()
    }

    /// Stops a running target (0x03) and waits for its stop reply; nothing when halted.
    public func halt() throws(KeelError) {
        guard isRunning else { return }
        try write([0x03], what: "the interrupt")
        isRunning = false
        _ = try receive(expectingStop: true, what: "the interrupt (0x03)")
    }

    /// Lets a halted target run (`c`); there is no reply until it stops again.
    public func resume() throws(KeelError) {
        guard !isRunning else { return }
        try send("c")
        isRunning = true
    }

    /// `count` bytes at `address`, in requests of at most `memoryChunk` bytes.
    public func read(_ address: UInt32, count: Int) throws(KeelError) -> [UInt8] {
        if let bytes = try readIfAllowed(address, count: count) { return bytes }
        throw refusedRead(address, count: count)
    }

    /// `read`, or nil when the target refuses (an `E..` reply: memory it cannot or may not reach).
    public func readIfAllowed(_ address: UInt32, count: Int) throws(KeelError) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let start = address &+ UInt32(bytes.count)
            let length = min(Self.memoryChunk, count - bytes.count)
            let reply = try request("m\(String(start, radix: 16)),\(String(length, radix: 16))")
            if reply.hasPrefix("E") { return nil }
            if reply.isEmpty { throw .debugTarget("the target at \(endpoint) does not support memory reads") }
            guard let chunk = GDBPacket.bytes(fromHex: reply), !chunk.isEmpty, chunk.count <= length else {
                throw .debugTarget("the target at \(endpoint) sent a malformed reply to a memory read at \(hex(start)): '\(KeelError.excerpt(reply))'")
            }
            bytes += chunk
        }
        return bytes
    }

    /// The error of a refused read.
    public func refusedRead(_ address: UInt32, count: Int) -> KeelError {
        .debugTarget("the target at \(endpoint) refused to read \(count) bytes at \(hex(address)) (memory read refused: an E.. reply)")
    }

    /// Little-endian words at `address`.
    public func readWords(_ address: UInt32, count: Int) throws(KeelError) -> [UInt32] {
        let bytes = try read(address, count: count * 4)
        return stride(from: 0, to: bytes.count, by: 4).map { TargetWords.word(bytes, at: $0) }
    }

    /// Writes `bytes` at `address` (`M`).
    public func write(_ address: UInt32, bytes: [UInt8]) throws(KeelError) {
        let reply = try request("M\(String(address, radix: 16)),\(String(bytes.count, radix: 16)):\(GDBPacket.hex(bytes))")
        guard reply == "OK" else {
            throw .debugTarget("the target at \(endpoint) refused to write \(bytes.count) bytes at \(hex(address)): "
                + (reply.isEmpty ? "memory writes are not supported" : reply))
        }
    }

    /// A 32-bit register by its GDB number (13 is SP on ARM): `p`, or `g` when `p` is not supported.
    public func register(_ number: Int) throws(KeelError) -> UInt32 {
        var reply = try request("p\(String(number, radix: 16))")
        if reply.isEmpty {
            let all = try request("g")
            let start = number * 8
            guard all.utf8.count >= start + 8 else {
                throw .debugTarget("the target at \(endpoint) did not send register \(number)")
            }
            reply = String(all.dropFirst(start).prefix(8))
        }
        guard let bytes = GDBPacket.bytes(fromHex: reply.prefix(8)), bytes.count == 4 else {
            throw .debugTarget("the target at \(endpoint) refused to read register \(number): '\(KeelError.excerpt(reply))'")
        }
        return TargetWords.word(bytes, at: 0)
    }

    /// Writes a 32-bit register by its number in the stub's numbering (`P`). Nil when the stub
    /// does not support `P` (an empty reply); an `E..` reply is an error.
    public func writeRegisterIfSupported(_ number: Int, _ value: UInt32) throws(KeelError) -> Void? {
        let word = GDBPacket.hex((0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
        let reply = try request("P\(String(number, radix: 16))=\(word)")
        if reply.isEmpty { return nil }
        guard reply == "OK" else {
            throw .debugTarget("the target at \(endpoint) refused to write register \(number): '\(KeelError.excerpt(reply))'")
        }
        return ()
    }

    /// An object the stub offers through `qXfer:OBJECT:read:ANNEX` (its target description,
    /// its memory map), read in pieces until the last (`l`). Nil when the stub does not have it.
    public func readObject(_ object: String, annex: String = "") throws(KeelError) -> String? {
        var text = ""
        while true {
            let reply = try request("qXfer:\(object):read:\(annex):\(String(text.utf8.count, radix: 16)),\(String(Self.objectChunk, radix: 16))")
            guard let kind = reply.first, kind == "m" || kind == "l" else { return nil }
            text += reply.dropFirst()
            if kind == "l" || reply.count == 1 { return text }
        }
    }

    /// Bytes per `qXfer` request: what every stub named in the README sends in one reply.
    static let objectChunk = 0x3FB

    /// Sends a packet whose payload may hold any byte (`X`, `vFlashWrite`) and returns the
    /// reply; `what` names it in errors.
    public func request(bytes payload: [UInt8], what: String) throws(KeelError) -> String {
        try send(bytes: payload, what: what)
        return try receive(expectingStop: false, what: what)
    }

    // MARK: Packets

    /// Sends a packet and returns the reply's data. Console output (`O...`) is skipped, and so
    /// are stop replies unless one is expected (a late answer to an earlier `?` or 0x03).
    @discardableResult
    public func request(_ payload: String, expectingStop: Bool = false) throws(KeelError) -> String {
        try send(payload)
        return try receive(expectingStop: expectingStop, what: "'\(payload.prefix(24))'")
    }

    private func send(_ payload: String) throws(KeelError) {
        try send(bytes: Array(payload.utf8), what: "'\(payload.prefix(24))'")
    }

    private func send(bytes payload: [UInt8], what name: String) throws(KeelError) {
        let packet = GDBPacket.encode(bytes: payload)
        try write(packet, what: name)
        guard acknowledging else { return }
        var attempts = 1
        while true {
            switch try nextEvent(what: "\(name) (no acknowledgement)") {
            case .ack: return
            case .nack:
                attempts += 1
                guard attempts <= 3 else { throw .debugTarget("the target at \(endpoint) kept asking for \(name) again") }
                try write(packet, what: name)
            case .packet(let data):
                try write([UInt8(ascii: "+")], what: "an acknowledgement")
                early.append(data)
            case .corrupt:
                try write([UInt8(ascii: "-")], what: "a request to send again")
            }
        }
    }

    private func receive(expectingStop: Bool, what: String) throws(KeelError) -> String {
        while true {
            let data: String
            if !early.isEmpty {
                data = early.removeFirst()
            } else {
                switch try nextEvent(what: what) {
                case .ack, .nack: continue
                case .corrupt:
                    if acknowledging { try write([UInt8(ascii: "-")], what: "a request to send again"); continue }
                    throw .debugTarget("the target at \(endpoint) sent a reply to \(what) with a wrong checksum")
                case .packet(let packet):
                    if acknowledging { try write([UInt8(ascii: "+")], what: "an acknowledgement") }
                    data = packet
                }
            }
            let kind = data.first
            if kind == "W" || kind == "X" {
                throw .debugTarget("the target at \(endpoint) has ended (\(data)); nothing left to read")
            }
            if kind == "O" && data != "OK" { continue }  // the target's console output
            let isStop = kind == "T" || kind == "S"
            if isStop == expectingStop { return data }
        }
    }

    private func nextEvent(what: String) throws(KeelError) -> GDBStreamParser.Event {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let event = parser.next() { return event }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw .debugTarget("the target at \(endpoint) is not responding: no answer to \(what) within \(Self.seconds(timeout))")
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { throw .debugTarget("the connection to \(endpoint) failed: \(Self.errorText())") }
            if ready == 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 8192)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw .debugTarget("the connection to \(endpoint) failed: \(Self.errorText())") }
            if count == 0 { throw .debugTarget("the target at \(endpoint) closed the connection (waiting for \(what))") }
            parser.feed(buffer[0..<count])
        }
    }

    private func write(_ bytes: [UInt8], what: String) throws(KeelError) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Self.sendBytes(descriptor, $0.baseAddress! + sent, $0.count - sent) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw .debugTarget("cannot send \(what) to the target at \(endpoint): \(Self.errorText())")
            }
            sent += count
        }
    }

    // MARK: Sockets

    static func connect(_ endpoint: GDBEndpoint, timeout: Double, startHint: String? = nil) throws(KeelError) -> Int32 {
        let descriptor: Int32
        switch endpoint {
        case .unixSocket(let path): descriptor = try connectUnix(path)
        case .tcp(let host, let port): descriptor = try connectTCP(host: host, port: port, timeout: timeout, startHint: startHint)
        }
        // A send that cannot complete within the timeout fails instead of blocking.
        var limit = timeval()
        limit.tv_sec = .init(timeout)
        limit.tv_usec = .init((timeout - timeout.rounded(.down)) * 1_000_000)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        return descriptor
    }

    static func connectUnix(_ path: String) throws(KeelError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        guard bytes.count < capacity else {
            throw .debugTarget("cannot connect to the GDB stub at \(path): a Unix socket path is at most \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let descriptor = socket(AF_UNIX, streamType, 0)
        guard descriptor >= 0 else { throw .debugTarget("cannot open a socket: \(errorText())") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                systemConnect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = errorText()
            closeDescriptor(descriptor)
            throw .debugTarget("cannot connect to the GDB stub at \(path): \(reason) (is the target running with a stub on that socket?)")
        }
        return descriptor
    }

    static func connectTCP(host: String, port: UInt16, timeout: Double, startHint: String? = nil) throws(KeelError) -> Int32 {
        let shown = GDBEndpoint.tcp(host: host, port: port).description
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamType
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .debugTarget("cannot connect to the GDB stub at \(shown): unknown host (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(list) }
        var reason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let candidate = entry {
            entry = candidate.pointee.ai_next
            let descriptor = socket(candidate.pointee.ai_family, candidate.pointee.ai_socktype, candidate.pointee.ai_protocol)
            if descriptor < 0 { reason = errorText(); continue }
            // Non-blocking while connecting, so an unreachable host ends with the timeout.
            let flags = fcntl(descriptor, F_GETFL, 0)
            _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
            var result = systemConnect(descriptor, candidate.pointee.ai_addr, candidate.pointee.ai_addrlen)
            if result != 0 && errno == EINPROGRESS {
                var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                if poll(&poller, 1, Int32(timeout * 1000)) == 1 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
                    result = error == 0 ? 0 : -1
                    errno = error
                } else {
                    errno = ETIMEDOUT
                }
            }
            if result == 0 {
                _ = fcntl(descriptor, F_SETFL, flags)
                var one: Int32 = 1  // small packets, sent at once
                _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return descriptor
            }
            reason = errorText()
            closeDescriptor(descriptor)
        }
        throw .debugTarget("cannot connect to the GDB stub at \(shown): \(reason) (\(startHint ?? "`keel run --gdb-listen \(port)` starts QEMU with one"))")
    }

    #if canImport(Glibc)
    static let streamType = Int32(SOCK_STREAM.rawValue)
    static func sendBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        Glibc.send(descriptor, bytes, count, Int32(MSG_NOSIGNAL))
    }
    static func systemConnect(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        Glibc.connect(descriptor, address, length)
    }
    static func closeDescriptor(_ descriptor: Int32) { _ = Glibc.close(descriptor) }
    #else
    static let streamType = SOCK_STREAM
    static func sendBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        Darwin.send(descriptor, bytes, count, 0)
    }
    static func systemConnect(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        Darwin.connect(descriptor, address, length)
    }
    static func closeDescriptor(_ descriptor: Int32) { _ = Darwin.close(descriptor) }
    #endif

    static func errorText() -> String { String(cString: strerror(errno)) }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

/// Little-endian words in bytes read from a target or an image.
enum TargetWords {
    static func word(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    /// A word as the target stores it.
    static func bytes(_ word: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: word), UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 24)]
    }
}
