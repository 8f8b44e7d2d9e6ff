// A build with its stack analysis: automatic stacks sized, the final image checked.
//
// "auto" sizes a fixed stack at its worst case plus a margin (StackCheck.automaticBytes),
// and a segmented stack's first segment at the task's path with each recursion walked
// once, plus the slack below its limit (StackCheck.automaticFirstSegment): the task then
// runs everything but its recursions without a split.
//
// Why a second build for "auto": a stack's size moves every address after it, but not the
// code's frames or calls, so the first image (automatic stacks laid out at a placeholder
// size) gives the worst cases, and the second is built with the stacks they call for. The
// second image is analysed again and that analysis is the one checked and reported. The
// first build has its own folder (`<name>-sizing`), so both stay cached and an unchanged
// application is not rebuilt twice on every `keel build`. In that first build every automatic
// stack has the smallest legal size, so the placeholder layout fits wherever the real one does.
//
// Every command that needs an image (`build`, `run`, `stack`, `check`, `layout` with automatic
// stacks, `demo`) goes through here: one plan, the same sizes, the same check.

import Foundation

public struct CheckedImage: Sendable {
    public var image: FirmwareImage
    /// The application as built: automatic stacks carry the sizes they were given.
    public var application: Application
    public var report: StackAnalysisReport
    public var findings: [StackFinding]
    /// Task name → the size "auto" gave it.
    public var automaticStacks: [String: Int]
}

extension FirmwareBuilder {
    /// Builds, sizes automatic stacks, analyses and checks. With `mode` `.error` a finding is
    /// a `KeelError.stackCheckFailed`; with `.warn` or `.off` the findings are returned.
    public func buildChecked(_ application: Application, for board: Board, output: URL? = nil,
                             mode: StackCheckMode? = nil) throws(KeelError) -> CheckedImage {
        var application = application
        var automatic: [String: Int] = [:]
        if application.tasks.contains(where: \.automaticStack) {
            var sizing = application
            sizing.name += "-sizing"
            for index in sizing.tasks.indices where sizing.tasks[index].automaticStack && sizing.tasks[index].segmented == nil {
                sizing.tasks[index].stackBytes = TaskSpec.sizingPlaceholderBytes
            }
            let first = try build(sizing, for: board)
            let report = try StackAnalysis.analyze(image: first, demangler: toolchain.demangler)
            for index in application.tasks.indices where application.tasks[index].automaticStack {
                let task = application.tasks[index]
                guard let result = report.tasks.first(where: { $0.task == task.name }) else {
                    throw .stackCheckFailed("task '\(task.name)' has no result in the stack analysis")
                }
                let bytes: Int
                if var segmented = task.segmented {
                    bytes = StackCheck.automaticFirstSegment(pathBytes: result.pathBytes, exceptionFrameBytes: result.exceptionFrameBytes,
                                                             guardBytes: application.usesSegmentGuard(on: board) ? Int(SegmentedStack.guardBytes) : 0)
                    guard bytes <= segmented.maximumBytes else {
                        throw .stackCheckFailed("task '\(task.name)' has \"initial\": \"auto\"; the analysis asks for a first segment of "
                            + "\(bytes) bytes, more than its \"max\" of \(segmented.maximumBytes)")
                    }
                    segmented.initialBytes = bytes
                    application.tasks[index].segmented = segmented
                } else {
                    guard let worst = result.worstBytes else {
                        throw .stackCheckFailed("task '\(task.name)' has \"stack\": \"auto\" but its worst case is unbounded ("
                            + result.unbounded.joined(separator: "; ") + "); bound it in the manifest's \"analysis\" or give the stack in bytes")
                    }
                    bytes = StackCheck.automaticBytes(result, worst: worst)
                    guard bytes <= Int(board.ram.length) else {
                        throw .layoutImpossible("task '\(task.name)' needs \(bytes) bytes of stack, more than \(board.name)'s RAM")
                    }
                }
                application.tasks[index].stackBytes = bytes
                automatic[task.name] = bytes
            }
        }
        let image = try build(application, for: board, output: output)
        let report = try StackAnalysis.analyze(image: image, demangler: toolchain.demangler)
        let findings = StackCheck.findings(report)
        if (mode ?? application.stackCheck) == .error && !findings.isEmpty {
            removeImage(image)  // an image that failed its check is not left where `run` or a flasher could take it
            throw .stackCheckFailed(findings.flatMap { $0.lines(indent: "  ") }.joined(separator: "\n"))
        }
        return CheckedImage(image: image, application: application, report: report, findings: findings, automaticStacks: automatic)
    }
}
