// The stack analysis as text: a table per task, each deepest path, every unbounded point.

public enum StackReportText {
    public static func render(_ report: StackAnalysisReport) -> String {
        var lines: [String] = []
        lines.append("Worst-case stacks of \(report.image)\(report.board.map { " (\($0))" } ?? "")")
        lines.append("")
        let header = ["task", "worst", "declared", "margin", "largest frame", "still needed"]
        var rows: [[String]] = [header]
        for task in report.tasks {
            let worst = task.worstBytes.map { "\($0)" } ?? "unbounded (≥\(task.pathBytes &+ task.exceptionFrameBytes))"
            let declared = task.declaredBytes.map { "\($0)\(task.segmented ? " max" : "")" } ?? "-"
            let margin = task.marginBytes.map { $0 >= 0 ? "+\($0)" : "\($0)" } ?? "-"
            let frame = task.largestFrame.map { "\($0.bytes)" + (task.guardBytes > 0 ? " (guard \(task.guardBytes))" : "")
                + (task.redZoneBytes > 0 ? " (red zone \(task.redZoneBytes))" : "") } ?? "-"
            rows.append([task.task, worst, declared, margin, frame, task.stillNeeded])
        }
        lines += table(rows)
        let handler = report.handlers
        lines.append("")
        lines.append("handler stack (MSP): worst " + (handler.worstBytes.map { "\($0)" } ?? "unbounded")
            + (handler.declaredBytes.map { " of \($0) declared" } ?? "")
            + "; boot \(handler.bootBytes), running \(handler.runningBytes) (\(handler.interruptLevels) interrupt level"
            + (handler.interruptLevels == 1 ? "" : "s") + "), faults \(handler.faultBytes)"
            + (handler.segmentSlowPathBytes > 0 ? ", segment slow path \(handler.segmentSlowPathBytes)" : ""))
        if !handler.interruptHandlers.isEmpty {
            lines.append("  interrupt handlers: " + handler.interruptHandlers.joined(separator: ", "))
        }
        if let route = handler.floatingPoint {
            lines.append("  uses the FPU (its exception frames are extended, \(FloatingPointUse.extendedFrameBytes) bytes): "
                + route.joined(separator: " -> "))
        }
        for task in report.tasks {
            lines.append("")
            let total = task.worstBytes.map { "\($0) bytes" } ?? "unbounded; visible part \(task.pathBytes &+ task.exceptionFrameBytes) bytes"
            lines.append("\(task.task): deepest path from \(task.entry) (\(total))")
            lines += path(task.path)
            if let route = task.floatingPoint {
                lines.append(String(repeating: " ", count: 4) + pad("\(task.exceptionFrameBytes)", 6)
                    + "  extended exception frame (hardware: the task uses the FPU, " + route.joined(separator: " -> ") + ")")
            } else {
                lines.append(String(repeating: " ", count: 4) + pad("\(task.exceptionFrameBytes)", 6) + "  exception frame (hardware)")
            }
            lines += unboundedPoints(task.unboundedPoints)
        }
        lines.append("")
        lines.append("handler stack: deepest path")
        lines += path(handler.path)
        lines += unboundedPoints(handler.unboundedPoints)
        if let chains = report.uncheckedChains {
            lines.append("")
            lines += uncheckedChains(chains)
        }
        if !report.helpers.isEmpty {
            lines.append("")
            lines.append("frames not from the compiler (table: Keel's assembly, checked by hand; scanned: read from the pushes in the code):")
            for helper in report.helpers { lines.append("  " + pad("\(helper.bytes)", 6) + "  \(helper.source)  \(helper.function)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Each reason, the calls that reach it (the deepest path need not) and what bounds it.
    static func unboundedPoints(_ points: [UnboundedPoint]) -> [String] {
        points.flatMap { point in
            ["  unbounded: \(point.reason)"]
                + (point.path.isEmpty ? [] : ["    reached by: " + point.path.joined(separator: " -> ")])
                + ["    bound it in keel.json: " + point.fix]
        }
    }

    static func uncheckedChains(_ report: UncheckedChainReport) -> [String] {
        var lines = ["split-stack: \(report.checkedFunctions) functions check the limit; the slack below it is \(report.slackBytes) bytes"]
        if let longest = report.longest {
            let bytes = longest.unbounded.isEmpty ? "\(longest.bytes) bytes" : "unbounded (≥\(longest.bytes))"
            lines.append("longest unchecked run below the limit: \(bytes), from the check of \(longest.function)")
            lines += path(longest.path)
        }
        for chain in report.tooLong where chain != report.longest {
            let bytes = chain.unbounded.isEmpty ? "\(chain.bytes) bytes" : "unbounded (\(chain.unbounded.joined(separator: "; ")))"
            lines.append("  too long for the slack: from \(chain.function): \(bytes)")
        }
        if report.tooLong.isEmpty { lines.append("every unchecked run fits in the slack") }
        return lines
    }

    static func path(_ steps: [PathStep]) -> [String] {
        steps.map { "    " + pad("\($0.bytes)", 6) + "  \($0.function) (\($0.source))" }
    }

    static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
