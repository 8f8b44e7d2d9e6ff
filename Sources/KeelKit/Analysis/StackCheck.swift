// The stack check: every way the analysis says a stack can overflow, named by task and path.
//
// A finding is one of: a declared stack below its worst case (plus its red zone, which a
// path may not enter: T4 takes that for an overflow); a single frame larger than the MPU
// guard below the stack (a frame that large can put SP below the guard and write past it
// without touching it); on a stack not proven to hold its worst case, a frame larger than
// the red zone (it can write below the stack before T4's check at the next switch, or skip
// the painted band); a result the
// analysis cannot bound and the manifest does not bound; a handler stack below its worst
// case; in a split-stack image, a run of code between two prologue checks that goes deeper
// below the limit than the slack kept there (UncheckedChains.swift). `keel check` exits
// non-zero on any; `keel build` runs it unless the manifest says `"stack_check": "warn"` or
// `"off"`.
//
// Every finding ends with what to write in keel.json to clear it: the stack size that
// passes, the guard or red zone that holds the frame, the bound that closes the gap.

public struct StackFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case stackTooSmall = "stack too small"
        case frameJumpsGuard = "frame jumps the guard"
        case frameSkipsRedZone = "frame larger than the red zone"
        case floatingPointFrameJumpsGuard = "FP exception frame larger than the guard or red zone"
        case unbounded = "unbounded"
        case handlerStackTooSmall = "handler stack too small"
        case blockingInHandler = "blocking call in an interrupt handler"
        case kernelCallAboveCeiling = "kernel call from a zero-latency interrupt"
        case uncheckedRunTooLong = "unchecked run longer than the slack"
    }

    public var kind: Kind
    /// The task ("handler" for the handler stack).
    public var task: String
    public var message: String

    public var description: String { "\(task): \(message)" }

    /// The finding as a reader sees it: its clauses (what, the path, what to declare) each
    /// on a line of its own, every line wrapped to `LineWrap.width` after `indent`.
    public func lines(indent: String = "") -> [String] {
        let clauses = message.components(separatedBy: "; ")
        return clauses.enumerated().flatMap { index, clause in
            LineWrap.lines(index == 0 ? "\(task): \(clause)" : clause, width: LineWrap.width,
                           first: indent + (index == 0 ? "" : "  "), rest: indent + "      ")
        }
    }
}

public enum StackCheck {
    /// How much an automatic stack gets above its worst case: an eighth, at least 64 bytes,
    /// rounded up to 8 (the manifest's stack granule). Room for a compiler or library
    /// change between the analysis build and the final one is not needed (the final
    /// image is analysed again), so the margin is for code that changes later.
    public static func automaticBytes(worst: UInt32) -> Int {
        let margin = max(64, Int(worst) / 8)
        return max(256, (Int(worst) + margin + 7) / 8 * 8)
    }

    /// A segmented task's automatic first segment: the path with each recursion walked once
    /// (the visible part, which is the bound when there is no recursion), an exception frame
    /// (an extended one for a task that uses the FPU),
    /// and the slack kept below the limit (and the segment guard's band under it, on the M3),
    /// rounded up to 8; never less than the smallest first segment. Deeper recursion takes
    /// segments from the pool.
    public static func automaticFirstSegment(pathBytes: UInt32, exceptionFrameBytes: UInt32,
                                             guardBytes: Int = 0) -> Int {
        let bytes = Int(pathBytes) + Int(exceptionFrameBytes) + SegmentedStack.slackBytes + guardBytes
        return max(SegmentedStack.minimumInitialBytes, (bytes + 7) / 8 * 8)
    }

    /// The bytes a task's stack must hold: its worst case plus what lies below the lowest
    /// point it may reach, its red zone or, under T6, the slack below the prologue's limit,
    /// which holds the red zone (nil: unbounded).
    public static func neededBytes(_ task: TaskStackResult) -> Int? {
        task.worstBytes.map { Int($0) + Int(reservedBytes(task)) }
    }

    /// Bytes at the bottom of a fixed stack that a correct run never reaches.
    public static func reservedBytes(_ task: TaskStackResult) -> UInt32 {
        max(task.redZoneBytes, task.hasPrologueCheck ? UInt32(SegmentedStack.slackBytes) : 0)
    }

    /// What "auto" gives a fixed stack: the worst case with its margin, and the slack below
    /// the prologue's limit under T6 (a fixed cost, so no margin on it).
    public static func automaticBytes(_ task: TaskStackResult, worst: UInt32) -> Int {
        automaticBytes(worst: worst) + (task.hasPrologueCheck ? SegmentedStack.slackBytes : 0)
    }

    /// The smallest `"guard"` that holds a frame of `frame` bytes: a whole number of the MPU's
    /// 32-byte granules, and on PMSAv7 a power of two (the layout planner rounds a guard up to
    /// one, aligned to its size). Nil when it is above the manifest's limit of 65536 bytes.
    public static func guardBytes(holding frame: UInt32, mpu: MPUKind?) -> UInt32? {
        let bytes = mpu == .pmsav7 ? PMSAv7.regionSize(for: frame) : (frame + PMSAv8.granule - 1) / PMSAv8.granule * PMSAv8.granule
        return bytes <= 65536 ? bytes : nil
    }

    /// The smallest `"red_zone"` that holds a frame of `frame` bytes (a multiple of 16: T4
    /// compares four words at a time).
    public static func redZoneBytes(holding frame: UInt32) -> Int {
        (Int(frame) + 15) / 16 * 16
    }

    public static func findings(_ report: StackAnalysisReport) -> [StackFinding] {
        var findings: [StackFinding] = []
        for task in report.tasks {
            let path = task.path.map(\.function).joined(separator: " -> ")
            if let worst = task.worstBytes, let needed = neededBytes(task), let declared = task.declaredBytes, declared < needed {
                let redZone = task.hasPrologueCheck ? " + \(reservedBytes(task))-byte slack below the prologue's limit (T6)"
                    : task.redZoneBytes > 0 ? " + \(task.redZoneBytes)-byte red zone" : ""
                findings.append(StackFinding(kind: .stackTooSmall, task: task.task,
                    message: "stack \(declared) bytes < worst case \(worst) bytes\(redZone) (\(task.pathBytes) on the path + "
                        + "\(task.exceptionFrameBytes) exception frame); path: \(path); " + passingSize(task, worst: worst)))
            }
            // An FP task's exception frame is reserved whole and written from its bottom: a
            // guard or red zone smaller than it can be stepped over by the frame alone.
            if let route = task.floatingPoint, task.guardBytes > 0 || task.redZoneBytes > 0 {
                let frame = task.exceptionFrameBytes
                if task.guardBytes > 0 && task.guardBytes < frame {
                    let fix = guardBytes(holding: frame, mpu: report.mpu).map { "declare \"guard\": \($0)" } ?? ""
                    findings.append(StackFinding(kind: .floatingPointFrameJumpsGuard, task: task.task,
                        message: "the task uses the FPU (\(route.joined(separator: " -> "))): an exception reserves a \(frame)-byte "
                            + "extended frame and writes its integer words at the bottom first, below the \(task.guardBytes)-byte MPU guard: "
                            + "it can jump it; \(fix) (or protect the task with mpu-region or limit-register, which check the whole frame)"))
                }
                if task.redZoneBytes > 0 && task.redZoneBytes < frame && !task.hasPrologueCheck {
                    findings.append(StackFinding(kind: .floatingPointFrameJumpsGuard, task: task.task,
                        message: "the task uses the FPU (\(route.joined(separator: " -> "))): an exception's \(frame)-byte extended frame "
                            + "is larger than the \(task.redZoneBytes)-byte red zone and can write below the stack past it; "
                            + "declare \"red_zone\": \(redZoneBytes(holding: frame))"))
                }
            }
            if task.guardBytes > 0, let frame = task.largestFrame, frame.bytes > task.guardBytes {
                let fix = guardBytes(holding: frame.bytes, mpu: report.mpu).map { "declare \"guard\": \($0) to hold it" }
                    ?? "no guard can hold it (at most 65536 bytes): shrink the frame or protect the task with mpu-region"
                findings.append(StackFinding(kind: .frameJumpsGuard, task: task.task,
                    message: "the \(frame.bytes)-byte frame of \(frame.function) is larger than the \(task.guardBytes)-byte MPU guard "
                        + "below the stack: it can jump it; " + fix))
            }
            // A stack proven to hold its worst case above the red zone never reaches the band,
            // so no frame can skip it; only an unproven stack needs a band that holds its frames.
            let proven = neededBytes(task).map { needed in task.declaredBytes.map { $0 >= needed } ?? false } ?? false
            // Under T6 a frame of 256 bytes or more is compared whole before it is built, and
            // code without the check is proven to stay in the slack: no frame skips the band.
            if task.redZoneBytes > 0, !proven, !task.hasPrologueCheck, let frame = task.largestFrame, frame.bytes > task.redZoneBytes {
                let redZone = redZoneBytes(holding: frame.bytes)
                let stack = neededBytes(task).map { needed in
                    let bigger = needed - Int(task.redZoneBytes) + redZone
                    return " (part of the stack: it then needs at least \(max(bigger, 2 * redZone)) bytes)"
                } ?? " (part of the stack, which must be at least twice as large)"
                findings.append(StackFinding(kind: .frameSkipsRedZone, task: task.task,
                    message: "the \(frame.bytes)-byte frame of \(frame.function) is larger than the \(task.redZoneBytes)-byte red zone: "
                        + "it can write below the stack before T4 checks the band, or skip the band; declare \"red_zone\": \(redZone)" + stack))
            }
            for point in task.unboundedPoints {
                findings.append(StackFinding(kind: .unbounded, task: task.task, message: unboundedMessage(point)))
            }
        }
        let handler = report.handlers
        if let worst = handler.worstBytes, let declared = handler.declaredBytes, declared < Int(worst) {
            findings.append(StackFinding(kind: .handlerStackTooSmall, task: "handler",
                message: "handler_stack \(declared) bytes < worst case \(worst) bytes; " + handlerStackLives(handler)
                    + "; path: " + handler.path.map(\.function).joined(separator: " -> ")
                    + "; declare \"handler_stack\": \(automaticBytes(worst: worst)) (worst + margin)"))
        }
        for chain in handler.blockingCalls {
            findings.append(StackFinding(kind: .blockingInHandler, task: "handler",
                message: "a call that can block is reachable from an interrupt handler (it would reset the system): "
                    + chain.joined(separator: " -> ")
                    + "; in a handler use the calls without a timeout (give, trySend, tryReceive, notify)"))
        }
        for chain in handler.kernelCallsAboveCeiling {
            findings.append(StackFinding(kind: .kernelCallAboveCeiling, task: "handler",
                message: "a zero-latency interrupt (above the kernel's ceiling 0x40, never masked by it) reaches the kernel: "
                    + chain.joined(separator: " -> ")
                    + "; it can run while the kernel is halfway through changing what that call reads; hand the work to a "
                    + "handler attached with Keel.attachInterrupt (pend its line) and let that one call the kernel"))
        }
        for point in handler.unboundedPoints {
            findings.append(StackFinding(kind: .unbounded, task: "handler", message: unboundedMessage(point)))
        }
        for chain in report.uncheckedChains?.tooLong ?? [] {
            let slack = report.uncheckedChains!.slackBytes
            let depth = chain.unbounded.isEmpty ? "\(chain.bytes) bytes" : "unbounded (\(chain.unbounded.joined(separator: "; ")))"
            findings.append(StackFinding(kind: .uncheckedRunTooLong, task: "split-stack",
                message: "after the check of \(chain.function), code without a check runs \(depth) below the limit, more than the "
                    + "\(slack)-byte slack; path: " + chain.path.map(\.function).joined(separator: " -> ")))
        }
        return findings
    }

    /// What to declare instead of a stack that is too small.
    static func passingSize(_ task: TaskStackResult, worst: UInt32) -> String {
        if task.segmented {
            return "raise \"max\" to at least \(worst) bytes, plus \(SegmentedStack.slackBytes) "
                + "for every segment after the first (each keeps that slack below its limit)"
        }
        let automatic = automaticBytes(task, worst: worst)
        if task.hasPrologueCheck {
            return "declare \"stack\": \(automatic) (worst + margin + slack, what \"auto\" gives) or \"stack\": \"auto\""
        }
        if task.redZoneBytes == 0 {
            return "declare \"stack\": \(automatic) (worst + margin, what \"auto\" gives) or \"stack\": \"auto\""
        }
        // "auto" sizes from the worst case alone: it passes when the margin covers the red zone.
        let withRedZone = automaticBytes(worst: worst + task.redZoneBytes)
        return "declare \"stack\": \(withRedZone) (worst + red zone + margin)"
            + (automatic >= neededBytes(task)! ? " or \"stack\": \"auto\" (\(automatic) bytes)" : "")
    }

    /// What runs on the handler stack, with each part's bytes: the reason a handler_stack that
    /// was enough for an older Keel can be too small now (the fault path reports there, and
    /// the segment slow path runs there instead of on the task's stack).
    static func handlerStackLives(_ handler: HandlerStackResult) -> String {
        var parts = ["boot \(handler.bootBytes)",
                     "interrupts \(handler.runningBytes) (\(handler.interruptLevels) level\(handler.interruptLevels == 1 ? "" : "s"))",
                     "the fault path \(handler.faultBytes)"]
        if handler.segmentSlowPathBytes > 0 { parts.append("the segment slow path \(handler.segmentSlowPathBytes)") }
        return "it holds " + parts.joined(separator: ", ") + " bytes: the fault path reports on this stack and the "
            + "segment slow path runs here, not on a task's stack, so a handler_stack that was enough for an older Keel can be too small now"
    }

    static func unboundedMessage(_ point: UnboundedPoint) -> String {
        "unbounded: \(point.reason); path: " + (point.path.isEmpty ? "(not found below the entry)" : point.path.joined(separator: " -> "))
            + "; bound it in keel.json: " + point.fix
    }
}
