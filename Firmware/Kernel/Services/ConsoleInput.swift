// Console input: the bytes the board's UART receives, for a task to read with a timeout.
//
// The receive interrupt (ConsoleRing.swift's `keel_console_interrupt`) puts each byte into a
// stream buffer the task table holds ("console": {"input": N} in keel.json, N bytes; none by
// default, so an image that never reads pays nothing); a task reads it like any stream
// buffer. While the buffer is full the receive interrupt is off and bytes wait in the UART
// (one in the CMSDK's, six in the nRF51's, one in the STM32's); a read that makes room turns
// it back on. Under QEMU, which then holds the sender back, nothing typed is lost; on a part
// whose UART overruns meanwhile, the bytes it could not keep are gone, as with any driver
// without flow control. Under QEMU, `keel run` forwards its standard input to this UART.
// Compare Zephyr's `uart_irq_rx` callbacks feeding a ring buffer, FreeRTOS+CLI's UART stream.

/// What the console (the board's UART) receives. Declared in keel.json as
/// `"console": {"input": 128}`: the bytes that may wait for a reader.
public enum ConsoleInput {
    /// Copies up to `buffer.count` received bytes out, waiting until at least one is there
    /// or `timeout` passes (then throws `TimedOut`); returns how many it copied.
    /// Blocks: yes. From: a task. Stack: switch.
    public static func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Timeout = .forever) throws(TimedOut) -> Int {
        defer { resumeIfPaused() }
        return try stream.read(into: buffer, timeout: timeout)
    }

    /// Reads one line: the bytes up to a line end ("\n" or "\r", not copied), at most
    /// `buffer.count` of them (a longer line comes back in pieces). Returns the count, 0 for
    /// an empty line. Throws `TimedOut` when `timeout` passes before the line is complete
    /// (one deadline for the whole line; what arrived of it stays in `buffer`, and
    /// `lastPartialCount` says how much). Blocks: yes. From: a task. Stack: switch.
    public static func readLine(into buffer: UnsafeMutableRawBufferPointer, timeout: Timeout = .forever) throws(TimedOut) -> Int {
        var count = 0
        var byte: UInt8 = 0
        let end = tickCount &+ timeout.ticks
        lastPartialCount = 0
        while count < buffer.count {
            // What is left of the line's deadline (forever and no-wait stay as they are).
            var left = timeout
            if timeout.ticks != Timeout.forever.ticks && timeout.ticks != 0 {
                let remaining = Int32(bitPattern: end &- tickCount)
                left = remaining <= 0 ? .noWait : Timeout(ticks: UInt32(remaining))
            }
            do {
                _ = try withUnsafeMutableBytes(of: &byte) { (one) throws(TimedOut) in try stream.read(into: one, timeout: left) }
            } catch {
                lastPartialCount = count
                throw error
            }
            resumeIfPaused()
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { break }
            buffer[count] = byte
            count &+= 1
        }
        return count
    }

    /// How many bytes of a line the last `readLine` that timed out had read into its buffer.
    /// Blocks: no. From: a task. Stack: leaf.
    public nonisolated(unsafe) static var lastPartialCount = 0

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

    /// The receive interrupt: every byte the UART holds, while the buffer has room; with
    /// none left, the interrupt pauses until a read makes room.
    static func receive() {
        guard let input = consoleInput else { return }
        while input.count < input.capacity {
            guard let byte = UART.receivedByte() else { return }
            if !input.tryWrite(byte) { consoleInputDropped &+= 1 }
        }
        let interrupts = Interrupts.mask()
        UART.pauseReceiving()
        consoleReceivePaused = true
        Interrupts.restore(interrupts)
    }

    /// After a read: the receive interrupt back on, and its line pended for the bytes that
    /// waited in the UART meanwhile.
    static func resumeIfPaused() {
        guard consoleReceivePaused else { return }
        let interrupts = Interrupts.mask()
        consoleReceivePaused = false
        UART.resumeReceiving()
        NVIC.pend(UART.receiveLine)
        Interrupts.restore(interrupts)
    }
}

/// The input buffer from the task table (nil: the image reads no console input).
nonisolated(unsafe) var consoleInput: StreamBuffer? = nil
nonisolated(unsafe) var consoleInputDropped: UInt32 = 0
/// The receive interrupt is off because the buffer was full (`ConsoleInput.receive`).
nonisolated(unsafe) var consoleReceivePaused = false
