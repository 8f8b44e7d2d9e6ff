// A console stream into records, against one image: log records formatted, faults symbolised,
// and the boot line's build ID checked against the image's.
//
// Why one place: `keel run` reads QEMU's UART and `keel decode` a console captured from a
// real board (or an earlier run); both must decode the same way, and both must refuse an
// image of another build. A log record holds addresses of literals in the image that wrote
// it, so with another build's ELF it decodes to other bytes of flash ("fo1  state=
// talker0xf6d680f9") without any sign of being wrong: the boot line names the build
// (`keel:boot id=…`), and a stream whose build is not the image's stops at that line.

import Foundation

public struct ConsoleDecoder {
    /// The image the console is decoded with.
    public let elf: URL
    /// Its build ID; nil for an image without one (built by an older keel), which is then not checked.
    public let identity: BuildIdentity?
    let symbolizer: Symbolizer?
    /// Read from the image at the first record.
    var logDecoder: LogDecoder? = nil
    /// A task's stack words (`keel:stack-words`): they belong to the fault record that follows.
    var evidence: StackWords? = nil
    /// The bytes of a line whose newline has not come yet.
    var pending = Data()

    public init(elf: URL, symbolizer: Symbolizer?) {
        self.elf = elf
        self.symbolizer = symbolizer
        self.identity = (try? ELFFile(contentsOf: elf)).flatMap(BuildIdentity.init(elf:))
    }

    /// The record of one console line (without its newline); nil when it is a log record that
    /// continues on a later line. Throws `.imageMismatch` at a boot line of another build.
    public mutating func decode(_ rawLine: String) throws(KeelError) -> ConsoleRecord? {
        var line = rawLine
        if line.hasSuffix("\r") { line.removeLast() }
        if LogDecoder.isRecord(line) {
            if logDecoder == nil { logDecoder = LogDecoder(imageAt: elf) }
            guard let text = logDecoder!.decode(line) else { return nil }
            line = text
        }
        let record = ConsoleRecord.parse(line)
        if case .boot(let booted) = record { try BuildIdentity.check(booted: booted, image: identity, elf: elf) }
        return symbolizer?.decorate(record, evidence: &evidence) ?? record
    }

    /// The records of the lines `chunk` completes, as the console's bytes arrive (a line cut
    /// at the chunk's end waits for the rest).
    public mutating func feed(_ chunk: Data) throws(KeelError) -> [ConsoleRecord] {
        pending.append(chunk)
        var records: [ConsoleRecord] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pending[pending.startIndex..<newline]
            pending = Data(pending[pending.index(after: newline)...])
            if let record = try decode(String(decoding: line, as: UTF8.self)) { records.append(record) }
        }
        return records
    }

    /// At the end of the stream: a last line without its newline, then the parts of log
    /// records that never ended (the stream stopped in the middle of one).
    public mutating func finish() throws(KeelError) -> [ConsoleRecord] {
        var records: [ConsoleRecord] = []
        if !pending.isEmpty, let record = try decode(String(decoding: pending, as: UTF8.self)) { records.append(record) }
        pending = Data()
        return records + (logDecoder?.finish() ?? []).map { .output($0) }
    }
}
