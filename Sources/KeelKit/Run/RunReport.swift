// Turns console records into what a person reads: one line per fault, a table of stacks.

import Foundation
@_spi(Contract) import KeelContract

public enum RunReport {
    static let techniqueNames: [String: String] = [
        "limit-register": "T1 stack-limit register (PSPLIM, MSPLIM for the handler stack)",
        "mpu-region": "T2 MPU region around the running stack",
        "mpu-guard": "T3 MPU guard below the stack",
        "red-zone": "T4 software red zone, at switch-out",
        "sp-check": "T5 stack-pointer check, at switch-out",
        "split-stack": "the split-stack prologue's limit check",
        "prologue-check": "T6 prologue check, before the frame was written",
        "segment-guard": "the segment guard (an MPU region near the bottom of the segment in use)",
        "none": "no stack technique",
    ]

    /// One readable line for a fault record: who, what (and, for an overflow, what caught it,
    /// how far below the stack it reached and whose memory that was), where, what was done.
    /// Faults that are a misuse of the kernel's API, not of memory: no registers to show.
    static let misuses = [
        "blocking-in-handler": "a call that can block (one with a timeout) was made in an interrupt handler, where there is no task to wait (`keel check` names the call path)",
        "blocking-with-interrupts-masked": "a call that can block was made inside Keel.withInterruptsMasked, where no other task can run",
    ]

    public static func describe(_ fault: FaultRecord) -> String {
        let who = fault.task == "handler" ? "handler (kernel)" : "task '\(fault.task)'"
        let technique = techniqueNames[fault.technique] ?? fault.technique
        var what: String
        if fault.isVictim {
            what = fault.proof == "possible"
                ? "stack possibly overwritten by the overflow of '\(fault.cause ?? "?")' (found by \(technique)): its live stack "
                    + "was in the overflow's reach, not proven written; stopped to be safe, through no fault of its own"
                : "stack overwritten by the overflow of '\(fault.cause ?? "?")' (found by \(technique)); "
                    + "stopped before it could run on it, through no fault of its own"
        } else if fault.isStackOverflow {
            what = fault.technique == "none"
                ? "stack overflow, caught by no stack technique: stopped by the \(faultName(fault)) it caused"
                : "stack overflow caught by \(technique)"
            if fault.jumped > 0 { what += "; a frame jumped its MPU guard by \(fault.jumped) bytes" }
            if let written = writtenDescription(fault) { what += "; " + written }
            if fault.hit != "none" { what += (fault.outside > 0 ? ", into " : "; it reached ") + hitDescription(fault.hit) }
            if fault.technique == "segment-guard" && fault.outside == 0 { what += ", before anything below the segment was written" }
        } else {
            what = faultName(fault)
            if fault.kind == "foreign-stack-write" { what = "write into \(hitDescription(fault.hit)), refused by \(technique)" }
        }
        var where_ = fault.pc == 0 ? "pc not stacked" : "pc \(hex(fault.pc))"
        if fault.pcOutsideCode {
            where_ += " (not code: a jump through a bad pointer or an overwritten return address)"
        } else if let reason = fault.location?.trapReason, !fault.isStackOverflow, !fault.isVictim {
            // The compiler's own check failed: the reason and its line say more than the registers.
            what = "Swift runtime failure: \(reason)"
            if let source = fault.location.flatMap(sourceDescription) { what += " at " + source }
            // A Keel call's own check failed: the application's call is what to look at.
            if let caller = fault.applicationCaller, let file = caller.file, let line = caller.line {
                what += ", called from \(file):\(line) in \(caller.function)"
            }
        } else if let source = fault.location.flatMap(sourceDescription) {
            where_ += " in " + source
        } else if let function = fault.function {
            where_ += " in \(function)"
        }
        var line = "FAULT \(who): \(what); \(where_), sp \(hex(fault.sp)), stack limit \(hex(fault.limit))"
        if let misuse = misuses[fault.kind] { line = "FAULT \(who): \(misuse)" }
        if fault.kind == "out-of-memory" {
            // The kernel's own finding, no hardware frame: `limit` is the size asked for; the PC
            // (when the record has one) is where the task was stopped, its backtrace the way there.
            line = "FAULT \(who): out of memory: the heap could not give \(fault.limit) bytes"
                + (fault.pc != 0 ? "; stopped at \(where_)" : "")
        }
        if fault.kind == "watchdog" {
            // The kernel's own finding on NMI, no stacked frame: `limit` is the missed deadline.
            line = fault.task == "handler"
                ? "FAULT: the watchdog ran out with no task past its deadline: the tick itself stopped feeding it "
                    + "(interrupts masked for good, or a lockup)"
                : "FAULT \(who): missed its watchdog deadline: no Keel.checkIn() for \(fault.limit) ticks, so the kernel stopped "
                    + "feeding the watchdog and it ran out"
        }
        if fault.technique == "prologue-check" {
            // The limit lies the slack above the stack's bottom: SP under it is still in the stack.
            line = "FAULT \(who): \(what); \(where_), sp \(hex(fault.sp)), prologue limit \(hex(fault.limit))"
                + (fault.sp < fault.limit ? " (\(fault.limit - fault.sp) bytes into the slack above the stack's bottom)" : "")
        } else if fault.technique == "segment-guard" {
            // The limit is the active segment's bottom; the guard is its lowest 32 bytes.
            line = "FAULT \(who): \(what); \(where_), sp \(hex(fault.sp)), segment bottom \(hex(fault.limit))"
        } else if fault.isStackOverflow && fault.sp < fault.limit { line += " (\(fault.limit - fault.sp) bytes below)" }
        if fault.cfsr != 0 { line += ", CFSR \(hex(fault.cfsr))\(decodeCFSR(fault.cfsr))" }
        if fault.mmfar != 0 { line += ", MMFAR \(hex(fault.mmfar))" }
        if fault.bfar != 0 { line += ", BFAR \(hex(fault.bfar))" }
        if fault.stackingFailed { line += ", while the hardware pushed the exception frame" }
        switch fault.action {
        case "kill": line += "; task stopped, others continue"
        case "restart": line += "; task restarted from its entry"
        case "reset": line += "; system reset" + (fault.resets.map { " (reset \($0) since power-on)" } ?? "")
        default: line += "; run halted"
        }
        return line
    }

    /// One line for a refused lock: who asked for what, the chain of holders back to the asker.
    public static func describe(_ deadlock: DeadlockRecord) -> String {
        let tasks = deadlock.tasks, mutexes = deadlock.mutexes
        var chain = ""
        for (index, mutex) in mutexes.enumerated() {
            let holder = tasks[(index + 1) % tasks.count]
            chain += index == 0 ? "mutex '\(mutex)' held by '\(holder)'" : ", which waits for mutex '\(mutex)' held by '\(holder)'"
        }
        let dropped = deadlock.dropped > 0 ? " (and \(deadlock.dropped) more refused before this was printed, not recorded)" : ""
        return "DEADLOCK refused: '\(tasks[0])' would wait for \(chain); its lock threw .deadlock instead of waiting forever" + dropped
    }

    /// "average(total:count:) at Traps.swift:15", with the function it was inlined into when
    /// there is one: "summarize(_:) at Traps.swift:23 (inlined into dividerTask() at Traps.swift:28)".
    /// The first frame with a file is the one named (the standard library's inlined pieces have none).
    /// For a trap: "Traps.swift:15 in average(total:count:)".
    static func sourceDescription(_ location: SourceLocation) -> String? {
        guard let index = location.frames.firstIndex(where: { $0.file != nil }) else {
            return location.frames.first?.function
        }
        let frame = location.frames[index]
        var text = location.trapReason != nil ? "\(frame.file!):\(frame.line!) in \(frame.function)" : frame.description
        if let outer = location.frames[(index + 1)...].first(where: { $0.file != nil }) {
            text += " (inlined into \(outer.description))"
        }
        return text
    }

    /// The backtrace under a fault line: one line per frame, innermost first, saying which
    /// frames are a guess. Empty when the record came with no stack words.
    public static func backtraceLines(_ fault: FaultRecord) -> [String] {
        var lines: [String] = []
        // A trap's source line: what a precondition or fatalError said (the image keeps no message).
        if let location = fault.location, location.trapReason != nil, let text = location.trapLine,
           let frame = location.frames.first(where: { $0.file != nil }) {
            lines.append("  \(frame.file!):\(frame.line!): \(text)")
        }
        guard !fault.backtrace.isEmpty else {
            if fault.backtraceEnding != nil {
                lines.append("  backtrace: no return address in the \(fault.stackWordBytes) bytes of stack the kernel printed")
            }
            return lines
        }
        if fault.backtrace.contains(where: \.frame.isGuess) {
            lines.append(fault.pc == 0 || fault.stackingFailed
                ? "  backtrace (no PC in the record: the walk starts from the stack's words, frames marked \"guess\" may be wrong):"
                : "  backtrace (frames marked \"guess\" were found by scanning the stack, not by frame sizes):")
        } else {
            lines.append("  backtrace:")
        }
        var texts: [String] = []
        for (number, decoded) in fault.backtrace.enumerated() {
            let source = decoded.location.map { SourceLocation(frames: $0.frames) }.flatMap(sourceDescription)
            var text = source ?? decoded.symbol ?? "0x" + String(decoded.frame.address, radix: 16)
            switch decoded.frame.kind {
            case .calledFunction: text += " (what #\(number + 1) calls, a guess; where in it is unknown)"
            case .returnAddress where decoded.frame.isGuess: text += " (guess)"
            case .faultingInstruction where decoded.frame.isGuess: text += " (guess: the PC of what looks like the frame at SP)"
            default: break
            }
            texts.append(text)
        }
        // A recursion: three or more frames alike are one line.
        var number = 0
        while number < texts.count {
            var last = number
            while last + 1 < texts.count && texts[last + 1] == texts[number] { last += 1 }
            if last - number >= 2 {
                lines.append("  #\(number)..#\(last) \(texts[number]) (\(last - number + 1) frames alike: a recursion)")
            } else {
                for index in number...last { lines.append("  #\(index) \(texts[index])") }
            }
            number = last + 1
        }
        switch fault.backtraceEnding {
        case .endOfWords?: lines.append("  … (the \(fault.stackWordBytes) bytes of stack the kernel printed end here)")
        case .frameLimit?: lines.append("  … (\(StackWalk.maximumFrames) frames shown)")
        case .lost?: lines.append("  … (no return address above: the rest of the stack is not a chain of calls)")
        case .taskEntry?, nil: break
        }
        return lines
    }

    /// The fault's kind in words ("bus fault", "fault in the fault path").
    static func faultName(_ fault: FaultRecord) -> String {
        switch fault.kind {
        case "fault-in-fault-path": "fault inside the kernel's fault handling"
        case "stack-overflow", "stack-overwritten": fault.cfsr != 0 || fault.hfsr != 0 ? faultFromRegisters(fault) : "fault"
        default: fault.kind.replacingOccurrences(of: "-", with: " ")
        }
    }

    /// What the overflow wrote below the stack and how the kernel knows (`evidence=`); nil
    /// when nothing below was in reach.
    static func writtenDescription(_ fault: FaultRecord) -> String? {
        let bytes = fault.outside
        switch fault.evidence {
        case "refused": return "refused before anything below the stack was written"
        case "frame": return bytes > 0 ? "its exception frame was pushed below the stack: \(bytes) bytes there were in reach, the frame's certainly written" : nil
        case "stack-pointer": return "SP was \(bytes) bytes below the stack at the switch: the exception frame there was written, the rest may have been"
        case "red-zone": return "the red zone's lowest word changed: the \(bytes) bytes below it may have been written"
        case "refused-below": return bytes > 0 ? "up to \(bytes) writable bytes below the stack, down to the refused access, may have been written" : "refused before anything below the stack was written"
        default: return bytes > 0 ? "\(bytes) bytes below the stack may have been written" : nil
        }
    }

    /// A `keel:console` record in words.
    public static func describe(_ loss: ConsoleLossRecord) -> String {
        var parts: [String] = []
        if loss.droppedLines > 0 {
            parts.append("\(loss.droppedLines) line\(loss.droppedLines == 1 ? "" : "s") dropped: the transmit ring was full where the writer could not wait "
                + "(a handler, or interrupts masked); a larger \"console\": {\"output\": N} in keel.json holds more")
        }
        if loss.droppedInputBytes > 0 {
            parts.append("\(loss.droppedInputBytes) received byte\(loss.droppedInputBytes == 1 ? "" : "s") dropped: the input buffer was full; "
                + "read sooner or declare a larger \"console\": {\"input\": N}")
        }
        if loss.droppedLogRecords > 0 {
            parts.append("\(loss.droppedLogRecords) log record\(loss.droppedLogRecords == 1 ? "" : "s") dropped: the RTT channel was full "
                + "(no host reading it in block mode, or a handler's record, which cannot wait); a larger \"log\": {\"to\": \"rtt\", \"bytes\": N} holds more")
        }
        return "console: " + parts.joined(separator: "; ")
    }

    /// A `keel:spared` record in words.
    public static func describe(_ spared: SparedRecord) -> String {
        "task '\(spared.task)': the overflow of '\(spared.cause)' could reach \(spared.bytes) bytes of its stack below its live part; "
            + "those were unused, the kernel repainted them and it runs on"
    }

    /// Which fault an overflow that no technique caught raised, from the status registers.
    static func faultFromRegisters(_ fault: FaultRecord) -> String {
        if fault.cfsr & 0xFF != 0 { return "memory management fault" }
        if fault.cfsr & 0xFF00 != 0 { return "bus fault" }
        if fault.cfsr & 0xFFFF_0000 != 0 { return "usage fault" }
        return "hard fault"
    }

    /// A record's `hit=` value in words.
    public static func hitDescription(_ hit: String) -> String {
        let parts = hit.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first ?? "" {
        // A record kept across a reset keeps no pointers, so it has the kind without the task.
        case "stack": return parts.count > 1 ? "the stack of '\(parts[1])'" : "a task's stack"
        case "guard": return parts.count > 1 ? "the MPU guard of '\(parts[1])'" : "an MPU guard"
        case "handler-stack": return "the handler stack (nothing live there while a task runs)"
        case "handler-guard": return "the handler stack's MPU guard"
        case "segment-pool": return "the segment pool"
        case "data": return "kernel and application data"
        case "reset-record": return "the reset record"
        case "gap": return "unused RAM"
        case "outside-ram": return "memory outside RAM"
        default: return hit
        }
    }

    /// The names of the CFSR bits that are set (ARMv7-M B3.2.15; STKOF from ARMv8-M).
    public static func decodeCFSR(_ value: UInt32) -> String {
        let set = (0..<32).compactMap { bit in value & (1 << UInt32(bit)) != 0 ? FaultStatus.name(ofBit: UInt32(bit)).map { "\($0)" } : nil }
        return set.isEmpty ? "" : " (" + set.joined(separator: " ") + ")"
    }

    /// The stack table: task, size, high-water mark, share used, protection, final state. A
    /// task that overflowed shows how far past its bottom it went; one whose stack another
    /// overflow wrote says whose.
    public static func stackTable(_ stacks: [StackRecord]) -> String {
        var rows = [["task", "stack", "used", "%", "protection", "state"]]
        for stack in stacks {
            let used = stack.used.map(String.init) ?? "?"
            let percent = stack.used.map { String(Int((Double($0) / Double(max(stack.size, 1)) * 100).rounded())) } ?? "?"
            var state = stack.state
            state += overflowNote(overflows: stack.overflows, bytes: stack.overflow, harmedBy: stack.harmedBy)
            rows.append([stack.task, String(stack.size), used, percent,
                         stack.protection.isEmpty ? "none" : stack.protection.joined(separator: ", "), state])
        }
        return table(rows, rightAligned: [1, 2, 3])
    }

    /// What a task's history says after its state, in the stack table and the live task table:
    /// ", overflowed 2 times, caught before a byte below was written", ", stack overwritten by 'x'".
    static func overflowNote(overflows: Int, bytes: Int, harmedBy: String?) -> String {
        var note = ""
        if overflows > 0 || bytes > 0 {
            let times = overflows > 1 ? " \(overflows) times" : ""
            note += bytes > 0 ? ", overflowed\(times), up to \(bytes) bytes below the stack in reach"
                              : ", overflowed\(times), caught before a byte below was written"
        }
        if let harmedBy { note += ", stack overwritten by '\(harmedBy)'" }
        return note
    }

    /// The live task table (`keel top`, and `keel run` at a timeout): per task its state,
    /// priority, stack size, the bytes it holds now and at most (high-water) with their share
    /// of the stack, protection and faults (a stopped task's state says why, as the stack table
    /// does: `overflowNote`), and, when a task waits on a kernel object, what
    /// it waits for (a mutex's holder too) and since which tick; then the handler stack's row.
    public static func taskTable(_ snapshot: TaskTable) -> String {
        func percent(_ bytes: Int?, of size: Int) -> String {
            bytes.map { String(Int((Double($0) / Double(max(size, 1)) * 100).rounded())) } ?? "?"
        }
        let waits = snapshot.tasks.contains { $0.waitingFor != nil }
        var rows = [["task", "state", "priority", "stack", "now", "%", "high-water", "%", "protection", "faults"]
            + (waits ? ["waiting for"] : [])]
        for task in snapshot.tasks {
            let state = task.state + overflowNote(overflows: task.overflows, bytes: task.overflowBytes, harmedBy: task.harmedBy)
            rows.append([task.name, state, String(task.priority), String(task.size),
                         task.usedNow.map(String.init) ?? "?", percent(task.usedNow, of: task.size),
                         task.highWater.map(String.init) ?? "?", percent(task.highWater, of: task.size),
                         task.protection.isEmpty ? "none" : task.protection.joined(separator: ", "), String(task.faults)]
                + (waits ? [waitDescription(task, now: snapshot.tick)] : []))
        }
        if let handler = snapshot.handler {
            rows.append(["handler", "-", "-", String(handler.size), "-", "-", String(handler.highWater),
                         percent(handler.highWater, of: handler.size), "-", "-"] + (waits ? [""] : []))
        }
        return table(rows, rightAligned: [2, 3, 4, 5, 6, 7, 9])
    }

    /// "mutex 'first' held by 'left' since tick 2 (4998 ticks ago)"; empty for a task that does not wait.
    static func waitDescription(_ task: TaskRow, now: UInt32?) -> String {
        guard let what = task.waitingFor else { return "" }
        guard let since = task.waitingSince else { return what }
        let ago = now.map { " (\($0 &- since) ticks ago)" } ?? ""
        return "\(what) since tick \(since)\(ago)"
    }

    /// The segment table: per segmented task what it holds and held at most, its splits and
    /// pool allocations; then the pool. Empty when the run had no segmented task.
    public static func segmentTable(_ records: [SegmentRecord]) -> String {
        let tasks = records.filter { $0.kind == .task }
        guard !tasks.isEmpty else { return "" }
        func value(_ record: SegmentRecord, _ key: String) -> String { record[key].map(String.init) ?? "?" }
        var rows = [["segmented", "first", "max", "peak segs", "peak bytes", "splits", "pool allocs", "slack used"]]
        for task in tasks {
            rows.append([task.task ?? "?", value(task, "initial"), value(task, "max"), value(task, "peak"),
                         value(task, "peak_bytes"), value(task, "splits"), value(task, "pool_allocations"), value(task, "slack_peak")])
        }
        var text = table(rows, rightAligned: Set(1...7))
        if let pool = records.first(where: { $0.kind == .pool }) {
            let total = pool["bytes"] ?? 0, lowest = pool["lowest_free"] ?? 0
            text += "\npool: \(total) bytes, peak use \(total - lowest), free at the end \(value(pool, "free")), "
                + "\(value(pool, "allocations")) allocations, \(value(pool, "grown_in_place")) growths in place, \(value(pool, "refusals")) refused, "
                + "slack \(value(pool, "slack")) bytes per segment"
        }
        return text
    }

    public static func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func format(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return rightAligned.contains(index) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([format(header), rule] + rows.dropFirst().map(format)).joined(separator: "\n")
    }

    /// A record as one JSON object (for `--json`).
    public static func json(_ record: ConsoleRecord) -> String {
        let object: [String: Any]
        switch record {
        case .output(let line): object = ["event": "output", "text": line]
        case .boot(let identity): object = identity.map { ["event": "boot", "id": $0.description] } ?? ["event": "boot"]
        case .end(let code): object = ["event": "end", "code": code]
        case .fault(let f), .previousBoot(let f):
            var isPrevious = false
            if case .previousBoot = record { isPrevious = true }
            var fields: [String: Any] = ["event": isPrevious ? "previous-boot" : "fault", "stacking_failed": f.stackingFailed, "task": f.task, "kind": f.kind, "technique": f.technique,
                                         "pc": hex(f.pc), "sp": hex(f.sp), "limit": hex(f.limit), "cfsr": hex(f.cfsr),
                                         "hfsr": hex(f.hfsr), "mmfar": hex(f.mmfar), "bfar": hex(f.bfar), "action": f.action,
                                         "message": describe(f)]
            if let function = f.function { fields["function"] = function }
            if let location = f.location {
                if let reason = location.trapReason { fields["trap"] = reason }
                fields["source"] = location.frames.map { ["function": $0.function, "file": $0.file ?? "", "line": $0.line ?? 0] as [String: Any] }
            }
            if !f.backtrace.isEmpty {
                fields["backtrace"] = f.backtrace.map { decoded -> [String: Any] in
                    var frame: [String: Any] = ["address": hex(decoded.frame.address), "kind": decoded.frame.kind.rawValue,
                                                "guess": decoded.frame.isGuess]
                    if let first = decoded.location?.frames.first(where: { $0.file != nil }) ?? decoded.location?.frames.first {
                        frame["function"] = first.function
                        if let file = first.file { frame["file"] = file }
                        if let line = first.line { frame["line"] = line }
                    } else if let symbol = decoded.symbol {
                        frame["function"] = symbol
                    }
                    return frame
                }
            }
            fields["hit"] = f.hit
            fields["outside"] = f.outside
            fields["jumped"] = f.jumped
            if let cause = f.cause { fields["by"] = cause }
            fields["evidence"] = f.evidence
            if let proof = f.proof { fields["proof"] = proof }
            if let resets = f.resets { fields["resets"] = resets }
            object = fields
        case .spared(let s):
            object = ["event": "spared", "task": s.task, "by": s.cause, "bytes": s.bytes, "message": describe(s)]
        case .consoleLoss(let loss):
            object = ["event": "console", "dropped_lines": loss.droppedLines, "dropped_input": loss.droppedInputBytes,
                      "dropped_log": loss.droppedLogRecords, "message": describe(loss)]
        case .deadlock(let d):
            object = ["event": "deadlock", "tasks": d.tasks, "mutexes": d.mutexes, "dropped": d.dropped, "message": describe(d)]
        case .stackWords(let words):
            object = ["event": "stack-words", "task": words.task, "sp": hex(words.sp), "from": hex(words.from),
                      "words": words.words.map { String(format: "%08x", $0) }]
        case .segments(let s):
            var fields: [String: Any] = ["event": "segments-" + s.kind.rawValue]
            for (key, value) in s.values { fields[key] = value }
            if let task = s.task { fields["task"] = task }
            if let reason = s.reason { fields["reason"] = reason }
            object = fields
        case .stack(let s):
            var fields: [String: Any] = ["event": "stack", "task": s.task, "size": s.size, "protection": s.protection, "state": s.state]
            if let used = s.used { fields["used"] = used }
            fields["overflow"] = s.overflow
            fields["overflows"] = s.overflows
            fields["faults"] = s.faults
            if let culprit = s.harmedBy { fields["by"] = culprit }
            object = fields
        }
        return jsonLine(object)
    }

    /// A task table as one JSON object: `{"event": "tasks", "running": ..., "tasks": [...], "handler": {...}}`
    /// and the `extra` fields (`keel top` adds how long the read took).
    public static func json(_ tasks: TaskTable, extra: [String: Any] = [:]) -> String {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(tasks),
              var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return "{}" }
        object["event"] = "tasks"
        for (key, value) in extra { object[key] = value }
        return jsonLine(object)
    }

    public static func jsonLine(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
