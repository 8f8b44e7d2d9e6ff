// Console input: the bytes the board's UART receives, for a task to read with a timeout.
//
// The receive interrupt (ConsoleRing.swift's `keel_console_interrupt`) puts each byte into a
// stream buffer the task table holds ("console": {"input": N} in keel.json, N bytes; none by
// default, so an image that never reads pays nothing); a task reads it like any stream
// buffer. A byte that arrives while the buffer is full is dropped and counted
// (`droppedBytes`): the UART has no room to hold it back (the CMSDK UART one byte, the
// nRF51 six). Under QEMU, `keel run` forwards its standard input to this UART.
// Compare Zephyr's `uart_irq_rx` callbacks feeding a ring buffer, FreeRTOS+CLI's UART stream.

/// What the console (the board's UART) receives. Declared in keel.json as
/// `"console": {"input": 128}`: the bytes that may wait for a reader.
public enum ConsoleInput {
    /// Copies up to `buffer.count` received bytes out, waiting until at least one is there
    /// or `timeout` passes (then throws `TimedOut`); returns how many it copied.
    /// Blocks: yes. From: a task. Stack: switch.
    public static func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Timeout = .forever) throws(TimedOut) -> Int {
        try stream.read(into: buffer, timeout: timeout)
    }

    /// Reads one line: the bytes up to a line end ("\n" or "\r", not copied), at most
    /// `buffer.count` of them (a longer line comes back in pieces). Returns the count, 0 for
    /// an empty line. Throws `TimedOut` when `timeout` passes before the line is complete
    /// (what arrived of it stays read). Blocks: yes. From: a task. Stack: switch.
    public static func readLine(into buffer: UnsafeMutableRawBufferPointer, timeout: Timeout = .forever) throws(TimedOut) -> Int {
        var count = 0
        var byte: UInt8 = 0
        while count < buffer.count {
            _ = try withUnsafeMutableBytes(of: &byte) { (one) throws(TimedOut) in try stream.read(into: one, timeout: timeout) }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { break }
            buffer[count] = byte
            count &+= 1
        }
        return count
    }

    /// Bytes waiting to be read. Blocks: no. From: anywhere. Stack: leaf.
    public static var count: Int { consoleInput?.count ?? 0 }

    /// Bytes dropped since boot because the input buffer was full. Blocks: no. From: anywhere. Stack: leaf.
    public static var droppedBytes: UInt32 {
        Register(address: withUnsafeMutablePointer(to: &consoleInputDropped) { UInt(bitPattern: $0) }).read()
    }

    /// The buffer; a trap naming the call when keel.json declares no console input.
    static var stream: StreamBuffer {
        guard let input = consoleInput else { fatalError("ConsoleInput: keel.json declares no console input (\"console\": {\"input\": N})") }
        return input
    }

    /// A byte from the receive interrupt.
    @inline(__always)
    static func received(_ byte: UInt8) {
        guard let input = consoleInput, input.tryWrite(byte) else {
            consoleInputDropped &+= 1
            return
        }
    }
}

/// The input buffer from the task table (nil: the image reads no console input).
nonisolated(unsafe) var consoleInput: StreamBuffer? = nil
nonisolated(unsafe) var consoleInputDropped: UInt32 = 0
