// Log: console lines that cost a task almost no stack, because nothing is formatted here.
//
// `Log.info("x \(a) at \(b)")` writes a *record* into the caller's console line instead of
// text: each literal piece as its address and length in the image, each argument as its raw
// word with a type tag. The host (`keel run`, Sources/KeelKit/Run/LogDecoder.swift) reads the
// literal bytes from the ELF and shows "x 3 at 42", exactly what `print` would have shown.
// The idea is Rust's defmt.
//
// Why it is small: the message's interpolation type is empty and inlined into the caller, so
// each piece of the message becomes one call into the kernel with constant arguments (the
// literal's address and length, or the argument word and its tag), and each call appends a
// few hex digits straight into the task's line. No String, no decimal conversion, no buffer
// on the stack: `print` with interpolation needs ~1.2 KB of stack, a log call a few words.
//
// The record is printable ASCII with no NUL byte (the console writes NUL-terminated lines
// today, a UART later), one line:
//
//     record = RS field* "L" level "\n"     RS = 0x1E, never in normal text; level 0 info,
//     field  = tag hex-digits               1 warning, 2 error; lowercase hex, no leading 0s
//
//     S<address> ,<length>  a literal piece (an empty piece is skipped)
//     U<word>  unsigned     D<word>  signed (two's complement)     B<0|1>  Bool
//     X<word>  shown as 0x + hex digits    C<scalar>  a one-character literal kept as a scalar
//     H<word>  the high 32 bits of the 64-bit value in the next field
//     ~<owner> a record split over lines: last field of a part, first field of the next
//
// A record longer than a line (95 bytes) ends its part with "~<owner>" and goes on in a line
// that starts RS "~<owner>"; the owner is the task's index + 1 (0: the kernel's line), so the
// host joins the parts even when other tasks' lines come between them.
//
// Lines: a task writes its records into its own line, so a record never mixes with another
// task's output; a half-written `print` line is ended first, so a record never starts
// mid-line and a later `print` starts on a fresh one. Handlers share the kernel's line: there
// a record is written with interrupts masked from its first piece to its end, so a nested
// handler cannot cut into it (the arguments are evaluated in between: keep them cheap).

/// Logging without formatting on the target: `Log.info("x \(a) at \(b)")`. The message may
/// interpolate integers of any width up to 64 bits, `Bool`, `StaticString` and `hex:`
/// integers; anything else (a String, a Double) does not compile, by design. `keel run`
/// shows the line as `print` would, with "warning: " or "error: " before the other levels.
public enum Log {
    /// Writes `message` as one console line, or into the RTT channel when keel.json says
    /// `"log": "rtt"` (RTTLog.swift). Its literal pieces go out as addresses and its arguments
    /// as raw words; the host formats them. Blocks: no (never through the scheduler: a task
    /// spins with interrupts on while the console's ring, or an RTT channel in block mode, is
    /// full; in a handler, interrupts are masked while the record is written).
    /// From: both. Stack: 40 bytes for the whole message on every board (`keel stack`: two
    /// call levels; the same line with `print` takes 1112 bytes on the M3/M33, 1248 on the M0).
    @_transparent
    public static func info(_ message: LogMessage) { LogRecord.end(level: 0) }

    /// `info`, shown by the host after "warning: ". Blocks: no. From: both. Stack: as `info`.
    @_transparent
    public static func warning(_ message: LogMessage) { LogRecord.end(level: 1) }

    /// `info`, shown by the host after "error: ". Blocks: no. From: both. Stack: as `info`.
    @_transparent
    public static func error(_ message: LogMessage) { LogRecord.end(level: 2) }
}

/// A log message: written into the caller's console line while it is built, piece by piece,
/// so it holds nothing itself. Only the argument of `Log.info`, `Log.warning`, `Log.error`.
public struct LogMessage: ExpressibleByStringInterpolation {
    /// A message without interpolation (`Log.info("ready")`): starts a record with the literal.
    /// Blocks: no. From: both. Stack: within the log call's 40 bytes.
    @_transparent
    public init(stringLiteral literal: StaticString) {
        LogRecord.begin()
        LogRecord.append(literal)
    }

    /// The interpolated message, already written. Blocks: no. From: both. Stack: none.
    @_transparent
    public init(stringInterpolation: StringInterpolation) {}

    /// The pieces of an interpolated message, each written into the caller's line as it comes.
    /// Empty: nothing is kept on the caller's stack.
    public struct StringInterpolation: StringInterpolationProtocol {
        /// Starts a record (ends a half-written `print` line first). Blocks: no. From: both.
        /// Stack: within the log call's 40 bytes.
        @_transparent
        public init(literalCapacity: Int, interpolationCount: Int) { LogRecord.begin() }

        /// A literal piece: its address and length (an empty piece writes nothing).
        /// Blocks: no. From: both. Stack: within the log call's.
        @_transparent
        public mutating func appendLiteral(_ literal: StaticString) { LogRecord.append(literal) }

        /// An integer (up to 64 bits), shown in decimal with its sign as `print` shows it.
        /// Blocks: no. From: both. Stack: within the log call's.
        @_transparent
        public mutating func appendInterpolation<Value: FixedWidthInteger>(_ value: Value) {
            LogRecord.integer(value, tag: Value.isSigned ? LogRecord.signed : LogRecord.unsigned)
        }

        /// An integer's bits (up to 64), shown as "0x" and lowercase hex digits without leading
        /// zeros (`hex: Int8(-1)` is 0xff). Blocks: no. From: both. Stack: within the log call's.
        @_transparent
        public mutating func appendInterpolation<Value: FixedWidthInteger>(hex value: Value) {
            LogRecord.integer(Value.Magnitude(truncatingIfNeeded: value), tag: LogRecord.hex)
        }

        /// `true` or `false`. Blocks: no. From: both. Stack: within the log call's.
        @_transparent
        public mutating func appendInterpolation(_ value: Bool) {
            LogRecord.field(LogRecord.boolean, value ? 1 : 0)
        }

        /// A static string (a task's name): its address and length, like a literal piece.
        /// Blocks: no. From: both. Stack: within the log call's.
        @_transparent
        public mutating func appendInterpolation(_ text: StaticString) { LogRecord.append(text) }
    }
}

/// Writes records into console lines; the calls the inlined message code makes.
@usableFromInline
enum LogRecord {
    static let marker: UInt8 = 0x1E
    @usableFromInline static let literalAddress = UInt8(ascii: "S")
    static let literalLength = UInt8(ascii: ",")
    @usableFromInline static let unsigned = UInt8(ascii: "U")
    @usableFromInline static let signed = UInt8(ascii: "D")
    @usableFromInline static let hex = UInt8(ascii: "X")
    @usableFromInline static let boolean = UInt8(ascii: "B")
    @usableFromInline static let scalar = UInt8(ascii: "C")
    @usableFromInline static let high = UInt8(ascii: "H")
    static let continuation = UInt8(ascii: "~")
    static let level = UInt8(ascii: "L")

    /// Room a field needs (tag and 8 digits), and what must stay free after it for the
    /// record's end ("L" level "\n") or a continuation ("~" owner "\n", owner ≤ 2 digits).
    static let fieldBytes = 9
    static let closingBytes = 4

    /// PRIMASK as it was when the record on the kernel's line began. Interrupts stay masked
    /// until that record ends, so there is never more than one such record.
    nonisolated(unsafe) static var kernelLineInterrupts: UInt32 = 0

    /// A literal piece or a static string: its address and length, nothing when it is empty.
    /// (A one-character literal the compiler kept as a Unicode scalar has no address.)
    @inlinable @inline(__always)
    static func append(_ text: StaticString) {
        if text.hasPointerRepresentation {
            if text.utf8CodeUnitCount != 0 {
                literal(UInt32(truncatingIfNeeded: UInt(bitPattern: text.utf8Start)), UInt32(truncatingIfNeeded: text.utf8CodeUnitCount))
            }
        } else {
            field(scalar, text.unicodeScalar.value)
        }
    }

    /// An integer as one field, or two for one wider than 32 bits (high word first).
    @inlinable @inline(__always)
    static func integer<Value: FixedWidthInteger>(_ value: Value, tag: UInt8) {
        if Value.bitWidth > 32 { field(high, UInt32(truncatingIfNeeded: value >> 32)) }
        field(tag, UInt32(truncatingIfNeeded: value))
    }

    /// Starts a record in the caller's line: ends a half-written line, then writes the marker.
    /// On the kernel's line, masks interrupts until `end`.
    @usableFromInline @inline(never)
    static func begin() {
        let line: UnsafeMutablePointer<ConsoleLine>
        if let taskLine = Console.taskLine {
            line = taskLine
        } else {
            kernelLineInterrupts = Interrupts.mask()
            line = Console.callerLine
        }
        if line.pointee.count != 0 { Console.append(UInt8(ascii: "\n"), to: &line.pointee, queued: true) }  // a `print` line
        put(marker, line)
    }

    /// A literal piece: its address and length, both in the same line.
    @usableFromInline @inline(never)
    static func literal(_ address: UInt32, _ length: UInt32) {
        let line = lineWithRoom(for: 2)
        putField(literalAddress, address, line)
        putField(literalLength, length, line)
    }

    /// One field: `tag`, then `value` in lowercase hex without leading zeros.
    @usableFromInline @inline(never)
    static func field(_ tag: UInt8, _ value: UInt32) {
        putField(tag, value, lineWithRoom(for: 1))
    }

    /// The caller's line, with room for `fields` fields and the record's end. When it is too
    /// full, this part ends with "~" owner and the record goes on in a fresh line that
    /// starts with the marker and "~" owner, so the host can join the parts.
    @inline(__always)
    static func lineWithRoom(for fields: Int) -> UnsafeMutablePointer<ConsoleLine> {
        let line = Console.callerLine
        if Int(line.pointee.count) + fields * fieldBytes + closingBytes > ConsoleLine.capacity {
            let owner = self.owner
            putField(continuation, owner, line)
            endLine(line)
            put(marker, line)
            putField(continuation, owner, line)
        }
        return line
    }

    /// Ends the record and writes the line out; restores interrupts on the kernel's line.
    @usableFromInline @inline(never)
    static func end(level value: UInt32) {
        let taskLine = Console.taskLine
        let line = taskLine ?? Console.callerLine
        putField(level, value, line)
        endLine(line)
        if taskLine == nil { Interrupts.restore(kernelLineInterrupts) }
    }

    /// Whose line the caller writes: the task's index + 1, 0 for the kernel's line.
    static var owner: UInt32 {
        guard let line = Console.taskLine, let lines = Console.taskLines else { return 0 }
        return UInt32(truncatingIfNeeded: lines.distance(to: line) &+ 1)
    }

    /// Appends without the newline check: `field` keeps room for every byte it writes.
    @inline(__always)
    static func put(_ byte: UInt8, _ line: UnsafeMutablePointer<ConsoleLine>) {
        line.pointee.bytes[Int(line.pointee.count)] = byte
        line.pointee.count &+= 1
    }

    /// Ends a record's line and sends it: to the RTT channel when the image logs over RTT
    /// (RTTLog.swift), else to the console; out of line, so that the callers' frames stay small.
    @inline(never)
    static func endLine(_ line: UnsafeMutablePointer<ConsoleLine>) {
        if let channel = rttChannel {
            RTTLog.send(line, to: channel)
        } else {
            Console.append(UInt8(ascii: "\n"), to: &line.pointee, queued: true)
        }
    }

    /// `tag`, then `value` in lowercase hex without leading zeros (at least one digit).
    @inline(never)
    static func putField(_ tag: UInt8, _ value: UInt32, _ line: UnsafeMutablePointer<ConsoleLine>) {
        put(tag, line)
        var shift: UInt32 = 28
        while shift != 0 && value >> shift == 0 { shift &-= 4 }
        while true {
            let nibble = UInt8(truncatingIfNeeded: (value >> shift) & 0xF)
            put(nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &- 10 &+ nibble, line)
            if shift == 0 { break }
            shift &-= 4
        }
    }
}
