// Reads the log's RTT channel (Firmware/Kernel/RTTLog.swift) through a GDB stub, as a probe
// would: the SEGGER control block at the image's `_SEGGER_RTT`, the bytes between the read
// and the write offset, then the read offset moved past them.
//
// The target must be halted while the channel is read (QEMU's stub, like most, reads memory
// only then); `RTTSession` halts it for a few milliseconds at a time. What comes out are the
// same record lines the UART carries, decoded by the same ConsoleDecoder.

import Foundation
@_spi(Contract) import KeelContract

public struct RTTReader: Sendable {
    /// Where the control block is (`_SEGGER_RTT`).
    public let controlBlock: UInt32
    /// The kernel's `keel_rtt_ready`: the channel is set up when the core gets there.
    public let readyAddress: UInt32

    /// The ID a set-up control block starts with (Contract/RTTLayout.swift).
    static let id = RTTLayout.id.withUTF8Buffer { Array($0) }

    /// The channel of the image at `elf`; an error naming the fix when it logs to the UART.
    public init(elf: URL) throws(KeelError) {
        let file: ELFFile
        do { file = try ELFFile(contentsOf: elf) } catch { throw .elf(error.description) }
        guard let block = file.address(ofSymbol: "_SEGGER_RTT"), let ready = file.address(ofSymbol: "keel_rtt_ready") else {
            throw .debugTarget("\(elf.lastPathComponent) logs to the UART: it has no RTT channel (_SEGGER_RTT); "
                + "build it with \"log\": \"rtt\" in keel.json, or run it with `keel run --log rtt`")
        }
        controlBlock = block
        readyAddress = ready & ~1
    }

    /// The up-buffer as the target last wrote it; nil until the kernel has set the channel up.
    struct Channel { var buffer: UInt32; var size: UInt32; var writeOffset: UInt32; var readOffset: UInt32; var flags: UInt32 }

    func channel(_ target: GDBRemote) throws(KeelError) -> Channel? {
        let bytes = try target.read(controlBlock, count: RTTLayout.controlBlockBytes)
        func word(_ offset: UInt32) -> UInt32 { TargetWords.word(bytes, at: Int(offset)) }
        guard Array(bytes.prefix(Self.id.count)) == Self.id, word(RTTLayout.upBufferCount) >= 1 else { return nil }
        let channel = Channel(buffer: word(RTTLayout.buffer), size: word(RTTLayout.size), writeOffset: word(RTTLayout.writeOffset),
                              readOffset: word(RTTLayout.readOffset), flags: word(RTTLayout.flags))
        guard channel.size > 1, channel.writeOffset < channel.size, channel.readOffset < channel.size else {
            throw .debugTarget("the RTT control block at \(hex(controlBlock)) is not consistent (size \(channel.size), "
                + "write offset \(channel.writeOffset), read offset \(channel.readOffset)): was the image overwritten?")
        }
        return channel
    }

    /// The bytes written since the last read, the read offset moved past them (target halted).
    public func read(_ target: GDBRemote) throws(KeelError) -> [UInt8] {
        guard let channel = try channel(target), channel.writeOffset != channel.readOffset else { return [] }
        var bytes: [UInt8]
        if channel.writeOffset > channel.readOffset {
            bytes = try target.read(channel.buffer &+ channel.readOffset, count: Int(channel.writeOffset - channel.readOffset))
        } else {
            bytes = try target.read(channel.buffer &+ channel.readOffset, count: Int(channel.size - channel.readOffset))
            if channel.writeOffset > 0 { bytes += try target.read(channel.buffer, count: Int(channel.writeOffset)) }
        }
        try target.write(controlBlock &+ RTTLayout.readOffset, bytes: TargetWords.bytes(channel.writeOffset))
        return bytes
    }

    /// Sets the channel's mode when full (the flags' low bits; target halted, channel set up).
    public func setMode(_ mode: UInt32, on target: GDBRemote) throws(KeelError) {
        guard let channel = try channel(target) else { throw .debugTarget("the RTT channel is not set up yet") }
        try target.write(controlBlock &+ RTTLayout.flags, bytes: TargetWords.bytes(channel.flags & ~RTTLayout.modeMask | mode))
    }
}

/// `keel run`'s reader of an RTT image: attaches to QEMU started halted, runs the core to the
/// kernel's `keel_rtt_ready` (a breakpoint), sets block mode so that no record is lost, then
/// reads the channel every few milliseconds until QEMU ends, handing each read's bytes on.
final class RTTSession: @unchecked Sendable {
    let reader: RTTReader
    let endpoint: GDBEndpoint
    /// Milliseconds between two reads.
    static let interval = 5

    init(reader: RTTReader, endpoint: GDBEndpoint) {
        self.reader = reader
        self.endpoint = endpoint
    }

    /// Connects once QEMU has made its stub's socket (it starts with QEMU: a few tries).
    func connect() throws(KeelError) -> GDBRemote {
        var tries = 0
        while true {
            do { return try GDBRemote(connectingTo: endpoint, timeout: 10) } catch {
                tries += 1
                if tries == 200 { throw error }
                usleep(25_000)
            }
        }
    }

    /// Runs on its own thread until the target goes away; `deliver` gets each read's bytes.
    /// A problem before the channel is up is handed back as an error (the run then shows it).
    func run(deliver: @escaping @Sendable ([UInt8]) -> Void) -> KeelError? {
        let target: GDBRemote
        do {
            target = try connect()
            let breakpoint = String(reader.readyAddress, radix: 16)
            guard try target.request("Z0,\(breakpoint),2") == "OK" else {
                return .debugTarget("QEMU's gdb stub refused a breakpoint at keel_rtt_ready")
            }
            _ = try target.request("c", expectingStop: true)
            try reader.setMode(RTTLayout.blockMode, on: target)
            _ = try target.request("z0,\(breakpoint),2")
            try target.resume()
        } catch {
            return error  // QEMU ended before the kernel set the channel up: nothing to read
        }
        while true {
            usleep(useconds_t(Self.interval * 1000))
            do {
                try target.halt()
                let bytes = try reader.read(target)
                try target.resume()
                if !bytes.isEmpty { deliver(bytes) }
            } catch {
                target.disconnect()
                return nil  // the run ended: QEMU closed the stub
            }
        }
    }
}
