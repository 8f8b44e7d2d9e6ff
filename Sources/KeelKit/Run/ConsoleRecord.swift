// The firmware's console, line by line: plain output, or a "keel:" record decoded into a value.
//
// The kernel prints records as `keel:<kind> key=value ...` (Faults.swift, Shutdown.swift);
// this is the only place that knows that format on the host.

public struct FaultRecord: Sendable, Equatable, Codable {
    public var task: String
    public var kind: String
    public var technique: String
    public var pc: UInt32
    public var sp: UInt32
    public var limit: UInt32
    public var cfsr: UInt32
    public var hfsr: UInt32
    public var mmfar: UInt32
    public var bfar: UInt32
    public var action: String
    /// The function containing `pc`, filled in from the ELF's symbols.
    public var function: String?
    /// The hardware could not push the exception frame (the overflow happened during exception entry).
    public var stackingFailed: Bool = false
    /// For a record from the previous boot: resets the kernel made since power-on.
    public var resets: Int? = nil
    /// What the overflow's lowest known address belonged to: "none" (its own stack and guard),
    /// "stack:NAME", "guard:NAME", "handler-stack", "handler-guard", "segment-pool", "data",
    /// "reset-record", "gap" or "outside-ram".
    public var hit: String = "none"
    /// Bytes below the stack (and its guard) the overflow reached, at least.
    public var outside: UInt32 = 0
    /// How far below its MPU guard the overflow's refused access was (a frame that jumped it).
    public var jumped: UInt32 = 0
    /// The task whose overflow caused this fault (this task's stack was overwritten by it).
    public var cause: String? = nil
    /// How the kernel decided what the overflow wrote below the stack (`WriteEvidence`'s names).
    public var evidence: String = "none"
    /// For a victim: bytes of its live stack were certainly written ("proven") or only in the
    /// overflow's reach ("possible": ambiguous evidence, stopped to be safe).
    public var proof: String? = nil

    /// The PC's source (file:line, inlined chain, a trap's reason), from the image's debug info.
    public var location: SourceLocation? = nil
    /// The PC is not 0 and lies in none of the image's code (RAM, or past the end of flash).
    public var pcOutsideCode = false
    /// The faulting task's calls, innermost first, walked from its stack words (StackWalk.swift).
    public var backtrace: [DecodedFrame] = []
    /// Why the walk stopped; nil when there were no stack words.
    public var backtraceEnding: Backtrace.Ending? = nil
    /// How many bytes of stack the kernel printed (the walk sees no further).
    public var stackWordBytes = 0
    /// When the PC is in the kernel (a Keel API's precondition, say): the application's line
    /// that called into it, from the backtrace; what the headline names as the culprit's.
    public var applicationCaller: SourceFrame? = nil

    public var isStackOverflow: Bool { kind == "stack-overflow" }
    /// This task did nothing wrong: another task's overflow wrote its stack.
    public var isVictim: Bool { kind == "stack-overwritten" }
}

/// One frame of a fault's backtrace with what the image says about it.
public struct DecodedFrame: Sendable, Equatable, Codable {
    public var frame: BacktraceFrame
    /// The source at the frame's address, when the debug info covers it.
    public var location: SourceLocation?
    /// The symbol containing it, when there is no source ("__aeabi_idiv + 0x12").
    public var symbol: String?

    public init(frame: BacktraceFrame, location: SourceLocation?, symbol: String?) {
        self.frame = frame; self.location = location; self.symbol = symbol
    }
}

public struct StackRecord: Sendable, Equatable, Codable {
    public var task: String
    public var size: Int
    /// High-water mark in bytes, nil when the task's stack is not painted.
    public var used: Int?
    public var protection: [String]
    public var state: String
    /// Bytes past the bottom its overflows reached, at least (0: none seen).
    public var overflow: Int = 0
    /// The task whose overflow wrote this task's stack.
    public var harmedBy: String? = nil
    /// Faults of this task during the run (its own and the ones it suffered).
    public var faults: Int = 0
    /// Its own overflows, whatever caught them (one the hardware refused before a byte below
    /// was written included).
    public var overflows: Int = 0
}

/// A task another task's overflow reached only below its live stack (`keel:spared`): those
/// bytes were dead, the kernel repainted them, and the task runs on.
public struct SparedRecord: Sendable, Equatable, Codable {
    public var task: String
    public var cause: String
    public var bytes: Int
}

/// A segmented-stack record: one task's segments (`keel:segments`), the pool
/// (`keel:segment-pool`), or a refused request (`keel:segments-refused`).
public struct SegmentRecord: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case task, pool, refused }
    public var kind: Kind
    /// The task; nil for the pool.
    public var task: String?
    /// Every numeric field of the line (bytes, counts), by its key.
    public var values: [String: Int]
    /// Why a request was refused ("pool-empty", "task-max", "fixed-stack-full").
    public var reason: String?

    public subscript(_ key: String) -> Int? { values[key] }
}

/// A lock the kernel refused because waiting would have closed a cycle (`keel:deadlock`):
/// `cycle` alternates task and mutex, starting with the task whose lock threw `.deadlock`;
/// each mutex is held by the task after it, the last one by the first task.
public struct DeadlockRecord: Sendable, Equatable, Codable {
    public var cycle: [String]
    /// Further refusals before the kernel printed this one (each throws, none is recorded).
    public var dropped: Int = 0

    public init(cycle: [String], dropped: Int = 0) {
        self.cycle = cycle
        self.dropped = dropped
    }

    /// The tasks of the cycle, the refused one first.
    public var tasks: [String] { stride(from: 0, to: cycle.count, by: 2).map { cycle[$0] } }
    /// The mutexes of the cycle: the one the refused task asked for first.
    public var mutexes: [String] { stride(from: 1, to: cycle.count, by: 2).map { cycle[$0] } }
}

/// What the console lost during the run (`keel:console`, printed at the end only when
/// something was lost): lines a full transmit ring dropped where the writer could not wait
/// (a handler, masked code), received bytes a full input buffer dropped, and log records a
/// full RTT channel dropped.
public struct ConsoleLossRecord: Sendable, Equatable, Codable {
    public var droppedLines: Int
    public var droppedInputBytes: Int
    /// Log records a full RTT channel dropped (RTTLog.swift).
    public var droppedLogRecords: Int

    public init(droppedLines: Int, droppedInputBytes: Int, droppedLogRecords: Int = 0) {
        self.droppedLines = droppedLines
        self.droppedInputBytes = droppedInputBytes
        self.droppedLogRecords = droppedLogRecords
    }
}

public enum ConsoleRecord: Sendable, Equatable {
    case output(String)
    /// A boot, with the build ID it printed (nil: a kernel from before images carried one).
    case boot(BuildIdentity?)
    case fault(FaultRecord)
    /// The fault that made the kernel reset, reported by the boot after it.
    case previousBoot(FaultRecord)
    case stack(StackRecord)
    case segments(SegmentRecord)
    case spared(SparedRecord)
    case deadlock(DeadlockRecord)
    case consoleLoss(ConsoleLossRecord)
    /// A faulting task's stack words, printed just before its fault record (StackEvidence.swift).
    case stackWords(StackWords)
    case end(code: Int)

    public static func parse(_ line: String) -> ConsoleRecord {
        guard line.hasPrefix("keel:") else { return .output(line) }
        let body = line.dropFirst(5)
        let recordKind = body.prefix { $0 != " " }
        var fields: [String: String] = [:]
        for pair in body.split(separator: " ").dropFirst() {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        func number(_ key: String) -> UInt32? {
            guard let text = fields[key] else { return nil }
            return text.hasPrefix("0x") ? UInt32(text.dropFirst(2), radix: 16) : UInt32(text)
        }
        switch recordKind {
        case "boot":
            return .boot(fields["id"].flatMap(BuildIdentity.init(parsing:)))
        case "fault", "previous-boot":
            guard let task = fields["task"], let kind = fields["kind"], let technique = fields["technique"],
                  let pc = number("pc"), let sp = number("sp"), let limit = number("limit") else { return .output(line) }
            var fault = FaultRecord(task: task, kind: kind, technique: technique, pc: pc, sp: sp, limit: limit,
                                    cfsr: number("cfsr") ?? 0, hfsr: number("hfsr") ?? 0, mmfar: number("mmfar") ?? 0,
                                    bfar: number("bfar") ?? 0, action: fields["action"] ?? "reset", function: nil)
            fault.stackingFailed = fields["stacking"] == "failed"
            fault.hit = fields["hit"] ?? "none"
            fault.outside = number("outside") ?? 0
            fault.jumped = number("jumped") ?? 0
            fault.cause = fields["by"]
            fault.evidence = fields["evidence"] ?? "none"
            fault.proof = fields["proof"]
            if recordKind == "previous-boot" {
                fault.resets = number("resets").map(Int.init)
                return .previousBoot(fault)
            }
            return .fault(fault)
        case "stack":
            guard let task = fields["task"], let size = number("size") else { return .output(line) }
            let protection = (fields["protection"] ?? "none").split(separator: ",").map(String.init)
            var stack = StackRecord(task: task, size: Int(size), used: number("used").map(Int.init),
                                    protection: protection == ["none"] ? [] : protection, state: fields["state"] ?? "?")
            stack.overflow = Int(number("overflow") ?? 0)
            stack.harmedBy = fields["by"]
            stack.faults = Int(number("faults") ?? 0)
            stack.overflows = Int(number("overflows") ?? 0)
            return .stack(stack)
        case "segments", "segment-pool", "segments-refused":
            let kind: SegmentRecord.Kind = recordKind == "segments" ? .task : recordKind == "segment-pool" ? .pool : .refused
            var values: [String: Int] = [:]
            for key in fields.keys { if let value = number(key) { values[key] = Int(value) } }
            return .segments(SegmentRecord(kind: kind, task: fields["task"], values: values, reason: fields["reason"]))
        case "spared":
            guard let task = fields["task"], let cause = fields["by"], let bytes = number("bytes") else { return .output(line) }
            return .spared(SparedRecord(task: task, cause: cause, bytes: Int(bytes)))
        case "deadlock":
            let cycle = (fields["cycle"] ?? "").split(separator: ",").map(String.init)
            guard cycle.count >= 2, cycle.count % 2 == 0 else { return .output(line) }
            return .deadlock(DeadlockRecord(cycle: cycle, dropped: Int(number("dropped") ?? 0)))
        case "stack-words":
            // Every number of this record is hex without "0x" (StackEvidence.swift).
            func hexadecimal(_ key: String) -> UInt32? { fields[key].flatMap { UInt32($0, radix: 16) } }
            guard let task = fields["task"], let sp = hexadecimal("sp"), let from = hexadecimal("from"), let list = fields["words"] else {
                return .output(line)
            }
            let words = list.split(separator: ",").compactMap { UInt32($0, radix: 16) }
            guard words.count == list.split(separator: ",").count else { return .output(line) }
            return .stackWords(StackWords(task: task, sp: sp, from: from, words: words))
        case "console":
            return .consoleLoss(ConsoleLossRecord(droppedLines: Int(number("dropped_lines") ?? 0),
                                                  droppedInputBytes: Int(number("dropped_input") ?? 0),
                                                  droppedLogRecords: Int(number("dropped_log") ?? 0)))
        case "end":
            return .end(code: Int(number("code") ?? 0))
        default:
            return .output(line)
        }
    }
}
