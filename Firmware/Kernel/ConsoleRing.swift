// The console's transmit ring: whole lines queued by tasks and handlers, sent by the UART's
// transmit interrupt, so a line never holds interrupts off while it goes out.
//
// A writer reserves room for its line (interrupts masked for a few instructions), copies the
// line in with interrupts on, and commits it (masked again, a few instructions, plus handing
// the first byte to an idle transmitter). Writers that preempt one another each get their own
// reservation, so lines never mix; the transmitter sends only up to `committed`, which moves
// when the last writer in flight commits. The longest masked section is therefore the same
// for a 2-byte line and a 95-byte one (`keel bench --only masking` measures it).
//
// When the ring is full (its size is the manifest's "console": {"output": N}):
//   - a task waits, with interrupts on, until the transmit interrupt has made room for its
//     line (as Zephyr's `uart_poll_out` and defmt-rtt's blocking mode spin): every handler and
//     every more urgent task runs meanwhile, and nothing the task prints is lost. It spins
//     rather than blocks so that printing never reaches the scheduler's wait: `print` and
//     `Log` cost their caller the same few words of stack as before the ring, and stay legal
//     in any code. A transmitter that makes no progress for 100 000 turns (a stalled UART, or
//     a ring full of a preempted writer's uncommitted line) drops the line and counts it;
//   - a handler, or a task that masked interrupts itself, cannot wait for the interrupt: its
//     line is dropped and counted.
// `Keel.consoleDroppedLines` reads the count; the run's end reports it as a `keel:console`
// record, which `keel run` shows.
// The kernel's own lines (records: faults, resets, the end of the run) never queue: the ring
// is flushed and the line sent before the call returns (Console.swift), so a record is never
// lost and never overtakes a line queued before it.

/// Where the ring is and how far each party has got. The counters run freely (wrapping):
/// `tail <= committed <= head`, and `head - tail` bytes are in use.
struct ConsoleRingState {
    var bytes: UnsafeMutablePointer<UInt8>? = nil
    /// Bytes the ring holds, a power of two (a slot is a counter masked, no division: the
    /// M0 has none); 0 until `ConsoleRing.start` (lines are then sent polled).
    var capacity: UInt32 = 0
    /// End of the reserved bytes.
    var head: UInt32 = 0
    /// End of the committed lines: the transmitter may send up to here.
    var committed: UInt32 = 0
    /// The next byte to hand to the transmitter.
    var tail: UInt32 = 0
    /// Writers between their reservation and their commit.
    var writers: UInt32 = 0
    /// A byte is in the transmitter and its interrupt will send the next.
    var sending = false
    /// Lines dropped because the ring was full where no one could wait.
    var droppedLines: UInt32 = 0
}

nonisolated(unsafe) var consoleRing = ConsoleRingState()

enum ConsoleRing {
    /// True once the transmit interrupt drains the ring (after `start`).
    @inline(__always) static var isRunning: Bool { consoleRing.capacity != 0 }

    /// Starts sending through the ring in `storage` (from the task table; `capacity` 0 keeps
    /// every line polled). Called once by `Kernel.start`, before the first task runs.
    static func start(storage: UnsafeMutablePointer<UInt8>, capacity: UInt32) {
        guard capacity > 0, UART.transmitsByInterrupt else { return }
        consoleRing.bytes = storage
        consoleRing.capacity = capacity
    }

    /// Queues `count` bytes of `line` (at most the ring's size: a line is at most 95 bytes,
    /// and the manifest's smallest ring is 128). Waits for room in a task; drops the line
    /// and counts it where it cannot wait. (Inlined into its one caller, as `waitForRoom`:
    /// fewer frames between `print` or `Log` and the ring.)
    @inline(__always)
    static func send(_ line: UnsafePointer<UInt8>, count: UInt32) {
        let interrupts = Interrupts.mask()
        if consoleRing.capacity &- (consoleRing.head &- consoleRing.tail) < count
            && (interrupts != 0 || Processor.isInHandlerMode || !waitForRoom(count, interrupts: interrupts)) {
            consoleRing.droppedLines &+= 1
            Interrupts.restore(interrupts)
            return
        }
        let start = consoleRing.head
        consoleRing.head &+= count
        consoleRing.writers &+= 1
        Interrupts.restore(interrupts)

        // The copy, with interrupts on: these bytes are this writer's alone until it commits.
        let bytes = consoleRing.bytes.unsafelyUnwrapped, capacity = consoleRing.capacity
        for index in 0..<count {
            bytes[Int((start &+ index) & (capacity &- 1))] = line[Int(index)]
        }

        let again = Interrupts.mask()
        consoleRing.writers &-= 1
        if consoleRing.writers == 0 { consoleRing.committed = consoleRing.head }
        if !consoleRing.sending { sendNext() }
        Interrupts.restore(again)
    }

    /// Waits with interrupts on (restored to `interrupts`, which are on) until `count` bytes
    /// are free; false when the transmitter stopped making progress. Returns with interrupts
    /// masked again.
    @inline(__always)
    static func waitForRoom(_ count: UInt32, interrupts: UInt32) -> Bool {
        var stalledTurns: UInt32 = 0
        var tail = consoleRing.tail
        while consoleRing.capacity &- (consoleRing.head &- consoleRing.tail) < count {
            Interrupts.restore(interrupts)  // the transmit interrupt runs here
            _ = Interrupts.mask()
            if consoleRing.tail != tail {
                tail = consoleRing.tail
                stalledTurns = 0
            } else {
                stalledTurns &+= 1
                if stalledTurns == 100_000 { return false }
            }
        }
        return true
    }

    /// Hands the next committed byte to the transmitter, or marks it idle. Interrupts masked
    /// by the caller.
    @inline(__always)
    static func sendNext() {
        if consoleRing.tail != consoleRing.committed {
            let slot = consoleRing.tail & (consoleRing.capacity &- 1)
            consoleRing.tail &+= 1
            consoleRing.sending = true
            UART.startSending(consoleRing.bytes.unsafelyUnwrapped[Int(slot)])
        } else {
            consoleRing.sending = false
        }
    }

    /// Sends every committed byte now, waiting for the transmitter (interrupts masked by the
    /// caller): before a record, and before the run ends. A line still being copied by a
    /// preempted writer stays queued and goes after.
    @inline(__always)
    static func flush() {
        guard isRunning else { return }
        if consoleRing.sending { UART.waitUntilTransmitterFree() }
        consoleRing.sending = false
        let bytes = consoleRing.bytes.unsafelyUnwrapped
        while consoleRing.tail != consoleRing.committed {
            UART.send(bytes[Int(consoleRing.tail & (consoleRing.capacity &- 1))])
            consoleRing.tail &+= 1
        }
    }

}

/// The console's interrupt (each of the UART's lines): the transmitter took the last byte, so
/// the next goes; received bytes go to the console input (ConsoleInput.swift).
@_cdecl("keel_console_interrupt")
func consoleInterrupt() {
    if UART.acknowledgeTransmitted() {
        let interrupts = Interrupts.mask()  // a more urgent handler may queue a line meanwhile
        // Not sending: the byte was a polled one (a record, a flush); nothing follows it here.
        if consoleRing.sending { ConsoleRing.sendNext() }
        Interrupts.restore(interrupts)
    }
    ConsoleInput.receive()
}
