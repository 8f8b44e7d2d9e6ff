// Split-stack images: how far code runs below `__STACK_LIMIT` between two prologue checks,
// and which functions can go without the check (Go's "nosplit" rule, proven here instead
// of trusted).
//
// Why the slack must be proven: a function with the split-stack prologue compares SP with
// the limit before it builds its frame — SP itself for frames under 256 bytes, SP minus
// the frame for larger ones (LLVM's ARMFrameLowering::adjustForSegmentedStacks) — so a
// check that passed says only that SP was at or above the limit. From there until the next
// check the stack runs unguarded below it:
//   - the function's own frame, when it is under 256 bytes, less what the prologue pushed
//     before it compared: 8 for the push-first form (`push {r4, r5}`, popped before the
//     frame is built), nothing for the Thumb-2 scratch form (SplitPrologue.swift);
//   - every callee without the prologue, and their callees (the kernel, the runtime, leaves
//     made nosplit);
//   - the next checked callee's pushes when its check fails (`push {r4, r5}` and
//     `push {lr}`, before or after the compare depending on the form), then `__morestack`'s
//     pushes (its slow path, `keel_segment_grow`, runs on the handler stack: the call graph
//     has no edge to it, HelperFacts.callsOnHandlerStack);
//   - one exception frame on top of the deepest point: an extended one (108 bytes, not 36)
//     where the code can run in a context that has used the FPU (FloatingPointUse.swift).
// That is an unchecked chain. The slack kept below every limit must hold the longest one.
//
// Which functions are checked is read from the linked image (a function that calls
// `__morestack` has the prologue), not from what the build meant to do, so the result holds
// for the code that runs.
//
// Nosplit: a checked function whose whole call tree fits in the slack can lose its check,
// provided no chain that passes through it gets longer. Taking the check away makes the
// function, as a callee, cost its own unchecked tree instead of the failing-check cost
// above; when that is no more, every chain through it stays as long or shorter, and its own
// chain disappears. `nosplitChoice` picks such functions, smallest trees first (so a
// caller is judged with its callees already nosplit); the build takes their prologue away,
// links again, and verifies the new image with this same walk.

/// An unguarded run below the limit, from one function's passed check.
public struct UncheckedChain: Sendable, Codable, Equatable {
    /// The checked function whose passed check starts the chain.
    public var function: String
    /// Bytes below the limit at the deepest point (for an unbounded chain: the visible part).
    public var bytes: UInt32
    public var path: [PathStep]
    /// Why the chain is unbounded (empty when `bytes` is a bound).
    public var unbounded: [String]
}

public struct UncheckedChainReport: Sendable, Codable, Equatable {
    /// The slack below every segment's limit.
    public var slackBytes: UInt32
    /// Functions with the prologue in this image.
    public var checkedFunctions: Int
    /// The longest bounded chain (an unbounded one when no chain is bounded).
    public var longest: UncheckedChain?
    /// Chains longer than the slack, or unbounded.
    public var tooLong: [UncheckedChain]
}

public struct UncheckedChains: Sendable {
    /// `push {r4, r5}` and `push {lr}` before `bl __morestack` (both forms).
    public static let prologueBytes: UInt32 = 12
    /// Frames under this many bytes are checked by SP alone, so the whole frame can lie below the limit.
    public static let comparedBySP: UInt32 = 256

    /// How far below its entry SP `function`'s prologue compared SP: the push-first form
    /// after `push {r4, r5}`, the scratch form at entry. An unrecognised prologue counts as
    /// compared at entry (its whole frame can lie below the limit).
    func comparedBelowEntry(_ function: Int) -> UInt32 {
        analysis.graph.functions[function].splitPrologue?.comparedBelowEntry ?? 0
    }

    /// The depths of the whole image (every tree followed to its leaves).
    public let analysis: WorstCaseStack
    /// Functions with the prologue.
    public let checked: Set<Int>
    let moreStack: Int
    /// What a checked function costs as a callee: its pushes and a failing check.
    let failingCheck: StackDepth
    /// Depths that stop at every checked function (which costs `failingCheck`).
    let cut: WorstCaseStack
    /// Functions reachable from a task entry or a vector whose code uses the FPU: an
    /// exception taken while they run may stack an extended frame.
    let inFloatingPointContext: Set<Int>

    /// nil for an image without `__morestack` (no split-stack code).
    public init?(analysis: WorstCaseStack) {
        let graph = analysis.graph
        guard let moreStack = graph.index(named: "__morestack") else { return nil }
        let checked = graph.functions.indices.filter { index in
            index != moreStack && graph.functions[index].calls.contains { $0.callee == moreStack }
        }
        self.analysis = analysis
        self.moreStack = moreStack
        self.checked = Set(checked)
        // The failing check: its pushes, then `__morestack`'s (its slow path runs on the
        // handler stack, so nothing else of it is on this one).
        var failing = analysis.depth(of: moreStack)
        failing.bytes &+= Self.prologueBytes
        failing.path.insert(PathStep(function: "prologue pushes; the check fails", bytes: Self.prologueBytes,
                                     source: "prologue"), at: 0)
        failingCheck = failing
        var replacing: [Int: StackDepth] = [:]
        for index in checked { replacing[index] = failing }
        cut = WorstCaseStack(graph: graph, names: analysis.names, hints: analysis.hints, replacing: replacing)
        let tasks = graph.functions.indices.filter { graph.functions[$0].name.hasPrefix(TaskTableGenerator.entryPrefix) }
            + [graph.index(named: "keel_task_returned")].compactMap { $0 }
        let inTasks = FloatingPointUse.reachableFromContextsUsingFPU(roots: tasks, graph: graph, analysis: analysis)
        let handlers = FloatingPointUse.handlerEntries(graph: graph, tasksUseFPU: !inTasks.isEmpty)
        inFloatingPointContext = inTasks.union(FloatingPointUse.reachableFromContextsUsingFPU(roots: handlers, graph: graph, analysis: analysis))
    }

    /// The exception frame that can land on top of a chain from `function`.
    func exceptionFrame(_ function: Int) -> UInt32 {
        inFloatingPointContext.contains(function) ? FloatingPointUse.extendedFrameBytes : StackAnalysis.exceptionFrameBytes
    }

    /// What `function` calls once its check has passed (its own `__morestack` call belongs
    /// to the failing check, which its caller's chain counts).
    func calleesAfterCheck(_ function: Int) -> [Int] {
        analysis.callees(of: function).filter { $0 != moreStack }
    }

    /// The chain from `function`'s passed check.
    public func chain(from function: Int) -> UncheckedChain {
        let graph = analysis.graph, names = analysis.names
        let frame = graph.functions[function].frame
        var unbounded: [UnboundedReason] = []
        if case .dynamic(let site) = frame { unbounded.append(.dynamicFrame(function: names[function], site: site)) }
        let frameBytes = frame.bytes ?? 0
        // Under 256 bytes the check compared SP (less what the prologue pushed first) with the limit.
        let below = comparedBelowEntry(function)
        let own = frameBytes < Self.comparedBySP ? frameBytes &- min(frameBytes, below) : 0
        var deepest: StackDepth? = nil
        for callee in calleesAfterCheck(function) {
            let result = cut.depth(of: callee)
            unbounded += result.unbounded.filter { !unbounded.contains($0) }
            if deepest == nil || result.bytes > deepest!.bytes { deepest = result }
        }
        let checkedAt = below == 0 ? "\(frame.source) frame: checked at the entry SP"
                                   : "\(frame.source) frame − \(below): checked at SP − \(below)"
        let first = PathStep(function: names[function], bytes: own,
                             source: frameBytes < Self.comparedBySP ? checkedAt
                                                                     : "\(frame.source) frame \(frameBytes), checked whole: above the limit",
                             symbol: graph.functions[function].name)
        let steps = deepest?.path ?? []
        let stacked = exceptionFrame(function)
        let total = own &+ (deepest?.bytes ?? 0) &+ stacked
        let exception = PathStep(function: stacked == StackAnalysis.exceptionFrameBytes ? "exception frame" : "exception frame (extended: FP context)",
                                 bytes: stacked, source: "hardware")
        return UncheckedChain(function: names[function], bytes: total, path: [first] + steps + [exception],
                              unbounded: unbounded.map(\.description))
    }

    /// Every chain against the slack.
    public func report(slackBytes: UInt32) -> UncheckedChainReport {
        let chains = checked.sorted().map(chain(from:))
        let bounded = chains.filter(\.unbounded.isEmpty)
        let longest = bounded.max { $0.bytes < $1.bytes } ?? chains.first
        return UncheckedChainReport(slackBytes: slackBytes, checkedFunctions: checked.count, longest: longest,
                                    tooLong: chains.filter { !$0.unbounded.isEmpty || $0.bytes > slackBytes })
    }

    /// Checked functions that can lose the prologue (indices), smallest trees first. A
    /// function qualifies when it is not recursive, `eligible` admits it, its whole tree
    /// plus an exception frame fits in the slack, and its unchecked tree costs its callers
    /// no more than its failing check did.
    public func nosplitChoice(slackBytes: UInt32, eligible: (Int) -> Bool) -> [Int] {
        let graph = analysis.graph
        // The whole tree without the function's own `__morestack` call, which goes with the prologue.
        func wholeTree(_ function: Int) -> UInt32? {
            guard let frame = graph.functions[function].frame.bytes else { return nil }
            var deepest: UInt32 = 0
            for callee in calleesAfterCheck(function) {
                let depth = analysis.depth(of: callee)
                guard depth.isBounded else { return nil }
                deepest = max(deepest, depth.bytes)
            }
            return frame &+ deepest
        }
        func budget(_ index: Int) -> UInt32 { slackBytes &- min(slackBytes, exceptionFrame(index)) }
        let candidates = checked.compactMap { index -> (index: Int, tree: UInt32)? in
            guard eligible(index), !analysis.isRecursive(index), let tree = wholeTree(index), tree <= budget(index) else { return nil }
            return (index, tree)
        }.sorted { ($0.tree, $0.index) < ($1.tree, $1.index) }

        // A callee's cost below the caller's frame (a checked one costs its failing check);
        // nil: unbounded. Functions already chosen cost their unchecked tree; the others keep
        // their first value, which can only overstate them.
        var chosenCost: [Int: UInt32] = [:]
        func calleeCost(_ index: Int) -> UInt32? {
            if let known = chosenCost[index] { return known }
            let depth = cut.depth(of: index)
            return depth.isBounded ? depth.bytes : nil
        }
        guard failingCheck.isBounded else { return [] }
        var chosen: [Int] = []
        for candidate in candidates {
            guard let frame = graph.functions[candidate.index].frame.bytes else { continue }
            var unchecked: UInt32? = frame
            for callee in calleesAfterCheck(candidate.index) {
                unchecked = calleeCost(callee).flatMap { bytes in unchecked.map { max($0, frame &+ bytes) } }
            }
            guard let unchecked, unchecked <= failingCheck.bytes else { continue }
            chosenCost[candidate.index] = unchecked
            chosen.append(candidate.index)
        }
        return chosen
    }
}
