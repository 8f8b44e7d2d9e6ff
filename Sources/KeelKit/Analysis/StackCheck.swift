// The stack check: every way the analysis says a stack can overflow, named by task and path.
//
// A finding is one of: a declared stack below its worst case; a single frame larger than
// the MPU guard below the stack (a frame that large can put SP below the guard and write
// past it without touching it); a result the analysis cannot bound and the manifest does
// not bound; a handler stack below its worst case; in a split-stack image, a run of code
// between two prologue checks that goes deeper below the limit than the slack kept there
// (UncheckedChains.swift). `keel check` exits non-zero on any;
// `keel build` runs it unless the manifest says `"stack_check": "warn"` or `"off"`.

public struct StackFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case stackTooSmall = "stack too small"
        case frameJumpsGuard = "frame jumps the guard"
        case unbounded = "unbounded"
        case handlerStackTooSmall = "handler stack too small"
        case uncheckedRunTooLong = "unchecked run longer than the slack"
    }

    public var kind: Kind
    /// The task ("handler" for the handler stack).
    public var task: String
    public var message: String

    public var description: String { "\(task): \(message)" }
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
    /// (the visible part, which is the bound when there is no recursion), an exception frame,
    /// and the slack kept below the limit, rounded up to 8; never less than the smallest
    /// first segment. Deeper recursion takes segments from the pool.
    public static func automaticFirstSegment(pathBytes: UInt32) -> Int {
        let bytes = Int(pathBytes) + Int(StackAnalysis.exceptionFrameBytes) + SegmentedStack.slackBytes
        return max(SegmentedStack.minimumInitialBytes, (bytes + 7) / 8 * 8)
    }

    public static func findings(_ report: StackAnalysisReport) -> [StackFinding] {
        var findings: [StackFinding] = []
        for task in report.tasks {
            let path = task.path.map(\.function).joined(separator: " -> ")
            if let worst = task.worstBytes, let declared = task.declaredBytes, declared < Int(worst) {
                findings.append(StackFinding(kind: .stackTooSmall, task: task.task,
                    message: "stack \(declared) bytes < worst case \(worst) bytes (\(task.pathBytes) on the path + \(task.exceptionFrameBytes) exception frame); path: \(path)"))
            }
            if task.guardBytes > 0, let frame = task.largestFrame, frame.bytes > task.guardBytes {
                findings.append(StackFinding(kind: .frameJumpsGuard, task: task.task,
                    message: "the \(frame.bytes)-byte frame of \(frame.function) is larger than the \(task.guardBytes)-byte MPU guard below the stack: it can jump it"))
            }
            if task.worstBytes == nil {
                findings.append(StackFinding(kind: .unbounded, task: task.task,
                    message: "unbounded: " + task.unbounded.joined(separator: "; ") + "; path: \(path)"))
            }
        }
        let handler = report.handlers
        if let worst = handler.worstBytes, let declared = handler.declaredBytes, declared < Int(worst) {
            findings.append(StackFinding(kind: .handlerStackTooSmall, task: "handler",
                message: "handler_stack \(declared) bytes < worst case \(worst) bytes; path: " + handler.path.map(\.function).joined(separator: " -> ")))
        } else if handler.worstBytes == nil {
            findings.append(StackFinding(kind: .unbounded, task: "handler", message: "unbounded: " + handler.unbounded.joined(separator: "; ")))
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
}
