// Whether a run went as the application meant: every fault it showed was declared expected.
//
// A firmware that faulted and still ended with code 0 is not a success: `keel run` exits
// non-zero unless the manifest declares that fault (`"expect"` on the task, or
// `"handler_expect"` for the handler stack). A task stopped because another's overflow wrote
// its stack lost its work, so that is a fault of its own unless it expects faults too.

public struct RunVerdict: Sendable {
    /// Faults of this run (and those the boots reported from before a reset) nobody declared.
    public var unexpected: [FaultRecord]

    /// `keel run`'s exit code when the firmware ended with 0 but showed an undeclared fault.
    public static let unexpectedFaultExitCode: Int32 = 4

    public static func evaluate(_ result: RunResult, application: Application) -> RunVerdict {
        let unexpected = (result.faults + result.previousBoots).filter { fault in
            let expectation = fault.task == "handler"
                ? application.expectedHandlerFault
                : application.tasks.first { $0.name == fault.task }?.expectedFault
            return !(expectation?.covers(fault) ?? false)
        }
        return RunVerdict(unexpected: unexpected)
    }

    /// One line per task and kind of undeclared fault, with how many times it happened and how
    /// to declare it if it is meant (a task restarted 36 times gets one line, not 36).
    public var explanation: [String] {
        var order: [String] = []
        var counts: [String: (fault: FaultRecord, count: Int)] = [:]
        for fault in unexpected {
            let key = fault.task + "\u{0}" + fault.kind
            if let seen = counts[key] { counts[key] = (seen.fault, seen.count + 1) } else { counts[key] = (fault, 1); order.append(key) }
        }
        return order.compactMap { counts[$0] }.map { fault, count in
            let key = fault.task == "handler" ? "\"handler_expect\": \"fault\" in the manifest"
                : "\"expect\": \"\(fault.isStackOverflow ? "overflow" : "fault")\" on task '\(fault.task)'"
            return "unexpected \(fault.kind.replacingOccurrences(of: "-", with: " ")) of \(fault.task == "handler" ? "the handler stack" : "task '\(fault.task)'")"
                + (count > 1 ? " (\(count) times)" : "") + " (declare \(key) if the application does this on purpose)"
        }
    }
}
