// The console: whole lines written through semihosting, one line buffer per task.
//
// Each task assembles its own line, so a task preempted in the middle of a line never
// interleaves with another; handlers and boot code share the kernel's line. `putchar`
// makes Swift's `print` land here. The host (`keel run`) reads lines starting with
// "keel:" as records (faults, stack table) and shows everything else as it is.

struct ConsoleLine {
    static let capacity = 95
    var bytes = InlineArray<96, UInt8>(repeating: 0)
    var count: UInt8 = 0
}

nonisolated(unsafe) private var kernelLine = ConsoleLine()

private let semihostingWrite0: UInt32 = 0x04
private let semihostingExitExtended: UInt32 = 0x20

enum Console {
    /// Appends one byte to the caller's line; a newline or a full line writes it out.
    static func put(_ byte: UInt8) {
        if !Processor.isInHandlerMode, let task = currentTask {
            append(byte, to: &task.pointee.line)
        } else {
            append(byte, to: &kernelLine)
        }
    }

    private static func append(_ byte: UInt8, to line: inout ConsoleLine) {
        line.bytes[Int(line.count)] = byte
        line.count &+= 1
        if byte == UInt8(ascii: "\n") || Int(line.count) == ConsoleLine.capacity {
            line.bytes[Int(line.count)] = 0
            withUnsafePointer(to: &line.bytes) { bytes in
                _ = portSemihostingCall(semihostingWrite0, UInt32(UInt(bitPattern: bytes)))
            }
            line.count = 0
        }
    }

    static func write(_ text: StaticString) {
        text.withUTF8Buffer { for byte in $0 { put(byte) } }
    }

    static func write(decimal value: UInt32) {
        var digits = InlineArray<10, UInt8>(repeating: 0)
        var remaining = value
        var count = 0
        repeat {
            digits[count] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
            remaining /= 10
            count &+= 1
        } while remaining != 0
        while count > 0 { count &-= 1; put(digits[count]) }
    }

    static func write(hex value: UInt32) {
        write("0x")
        var shift: UInt32 = 28
        while true {
            let nibble = UInt8(truncatingIfNeeded: (value >> shift) & 0xF)
            put(nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10)
            if shift == 0 { break }
            shift &-= 4
        }
    }

    /// Ends the QEMU run with `code` as its exit status (semihosting SYS_EXIT_EXTENDED).
    static func exit(code: UInt32) -> Never {
        var block: (UInt32, UInt32) = (0x20026, code)  // ADP_Stopped_ApplicationExit, code
        withUnsafeMutablePointer(to: &block) {
            _ = portSemihostingCall(semihostingExitExtended, UInt32(UInt(bitPattern: $0)))
        }
        while true { Processor.waitForInterrupt() }
    }
}

@_cdecl("putchar")
func putchar(_ character: Int32) -> Int32 {
    Console.put(UInt8(truncatingIfNeeded: character))
    return character
}
