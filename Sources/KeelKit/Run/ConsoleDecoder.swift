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
        var record = ConsoleRecord.parse(line)
        switch record {
        case .boot(let booted):
            try BuildIdentity.check(booted: booted, image: identity, elf: elf)
        case .stackWords(let words):
            evidence = words
        case .fault(var fault):
            symbolizer?.decorate(&fault, evidence: evidence)
            evidence = nil
            record = .fault(fault)
        case .previousBoot(var fault):
            symbolizer?.decorate(&fault, evidence: nil)
            record = .previousBoot(fault)
        default:
            break
        }
        return record
    }

    /// The parts of log records that never ended (the stream stopped in the middle of one).
    public mutating func finish() -> [ConsoleRecord] {
        (logDecoder?.finish() ?? []).map { .output($0) }
    }
}
