// The worst case of every task stack and of the handler stack, from a linked image.
//
// A task's stack holds its deepest call path (from `keel_entry_<task>`, or from
// `keel_task_returned` once the entry returns) plus one exception frame: the context
// switch keeps r4-r11 in the task's control block, not on its stack, and an exception
// taken from a task stacks 8 words on PSP (32 bytes) and up to 4 more to align SP to 8
// (ARMv7-M B1.5.7); the handler then runs on MSP, so nested exceptions never land there.
//
// The handler stack (MSP) has three lives:
// - boot: reset runs on it until the first task starts (the SVC frame and the SVC handler
//   on top); the SVC handler then drops those frames.
// - running: PendSV or SysTick (both least urgent: only one at a time), then the device
//   interrupts, each of which may preempt the last if attached at a more urgent priority:
//   every IRQ line counts once, each with its exception frame. An attached handler is a
//   `@convention(c)` function whose address is taken: those are the dispatcher's targets.
//   Or, in a split image, `__morestack`'s slow path from a task (the segment allocator's
//   tree, with interrupts masked, so never under a handler).
// - faults: on ARMv7-M/v8-M the fault entry restarts MSP from its top before it pushes, so
//   the fault path starts from an empty stack; on ARMv6-M it lands on whatever is there.
//   NMI can land on anything.

import Foundation

/// One task's result.
public struct TaskStackResult: Sendable, Codable, Equatable {
    public var task: String
    public var entry: String
    /// The deepest call path's bytes (unbounded: the visible part).
    public var pathBytes: UInt32
    /// The exception frame that can land on the stack.
    public var exceptionFrameBytes: UInt32
    /// pathBytes + exceptionFrameBytes; nil when unbounded.
    public var worstBytes: UInt32?
    public var path: [PathStep]
    /// Why it is unbounded (empty when bounded).
    public var unbounded: [String]
    /// Each reason with the calls that lead to it and what bounds it (the same order).
    public var unboundedPoints: [UnboundedPoint]
    /// Declared stack (a segmented task: its maximum), when known.
    public var declaredBytes: Int?
    /// Declared bytes left over the worst case and the red zone (negative: too small).
    public var marginBytes: Int? { StackCheck.neededBytes(self).flatMap { needed in declaredBytes.map { $0 - needed } } }
    public var largestFrame: PathStep?
    /// The MPU guard below the stack (T3), 0 when none.
    public var guardBytes: UInt32
    /// The red zone at the bottom of the stack (T4), 0 when none. It is part of the declared
    /// stack, and a path that reaches into it is an overflow to T4.
    public var redZoneBytes: UInt32
    public var protections: [String]
    public var segmented: Bool
    /// What the stack still needs once the bound is known.
    public var stillNeeded: String
    /// The calls from the task's entry to its first FP instruction (nil: the task never
    /// touches the FPU); when set, `exceptionFrameBytes` is the extended frame.
    public var floatingPoint: [String]? = nil
    /// T6 on a fixed stack: the prologue's limit lies the slack above the bottom.
    public var hasPrologueCheck: Bool { !segmented && protections.contains(Protection.prologueCheck.rawValue) }
}

public struct HandlerStackResult: Sendable, Codable, Equatable {
    public var worstBytes: UInt32?
    public var bootBytes: UInt32
    public var runningBytes: UInt32
    public var faultBytes: UInt32
    public var interruptLevels: Int
    /// `__morestack`'s slow path from a task (the segment allocator's tree, on this stack with
    /// interrupts masked), with a fault or NMI on top; 0 in an image without segmented stacks.
    public var segmentSlowPathBytes: UInt32 = 0
    public var interruptHandlers: [String]
    public var path: [PathStep]
    public var unbounded: [String]
    public var unboundedPoints: [UnboundedPoint]
    public var declaredBytes: Int?
    /// Call chains from an interrupt's vector to the kernel's wait (`keel_wait`): a call that
    /// can block, made in a handler, one per place the application calls blocking kernel code
    /// (BlockingCalls.swift). Each is a finding; at run time it would reset the system.
    public var blockingCalls: [[String]] = []
    /// Each call chain from a zero-latency interrupt's handler into the kernel's critical
    /// sections (it would run while the kernel is halfway through a change).
    public var kernelCallsAboveCeiling: [[String]] = []
    /// The calls from a handler-stack vector to the first FP instruction there (nil: none):
    /// when set, every exception frame the handler stack holds is counted extended.
    public var floatingPoint: [String]? = nil
}

/// One reason a result is unbounded, the calls that lead to it, and the manifest entry that
/// closes it.
public struct UnboundedPoint: Sendable, Codable, Equatable {
    /// Why (as `UnboundedReason` words it).
    public var reason: String
    /// The calls from the task's entry (the handler stack: its exception's handler) down to
    /// the place, entry first; for a recursion, down to the function of its cycle it meets first.
    public var path: [String]
    /// What to write in keel.json, ready to paste (an `N` or `BYTES` in it is for the user to give).
    public var fix: String

    public init(reason: String, path: [String], fix: String) {
        self.reason = reason
        self.path = path
        self.fix = fix
    }

    /// The point for `reason`, reached by `path` (nil: not found below the entry).
    public init(_ reason: UnboundedReason, path: [String]?) {
        self.reason = reason.description
        self.path = path ?? []
        switch reason {
        case .recursion(let cycle):
            // Any function of the cycle bounds it; the one the path meets is the one shown.
            let key = Self.quoted(path?.last ?? cycle[0])
            fix = "\"analysis\": {\"recursion_depth\": {\(key): N}}, N being the most times the recursion nests"
        case .callThroughRegisterMayReachItself(let function, _, _):
            fix = "\"analysis\": {\"indirect_calls\": {\(Self.quoted(function)): [...]}} naming every function that call "
                + "can reach (the closures it runs; `keel stack` prints the image's names)"
        case .dynamicFrame(let function, _), .unknownTarget(let function, _, _):
            fix = "\"analysis\": {\"bounds\": {\(Self.quoted(function)): BYTES}}, BYTES being the most its whole call tree uses"
        case .unknownHintTarget(let function, let target):
            fix = "\"analysis\": {\"indirect_calls\": {\(Self.quoted(function)): [...]}} naming functions the image has "
                + "(\(Self.quoted(target)) is not one; `keel stack` prints the image's names)"
        }
    }

    /// `text` as a JSON string.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

public struct StackAnalysisReport: Sendable, Codable, Equatable {
    public var image: String
    public var board: String?
    /// The board's MPU, which decides how a guard is sized (nil: no board given).
    public var mpu: MPUKind?
    public var tasks: [TaskStackResult]
    public var handlers: HandlerStackResult
    /// Every function reached from a task or handler whose frame came from somewhere other
    /// than the compiler, with where it came from.
    public var helpers: [PathStep]
    /// Split-stack images: the unguarded runs below `__STACK_LIMIT` (nil for other images).
    public var uncheckedChains: UncheckedChainReport?
}

public enum StackAnalysis {
    /// 8 words stacked on exception entry plus up to one word of alignment padding.
    public static let exceptionFrameBytes: UInt32 = 36

    /// Analyses `elf`. With an application (and its layout), tasks get their declared sizes,
    /// guards and the manifest's hints; without one, tasks are found by their entry symbols.
    public static func analyze(elf: ELFFile, path: String, board: Board?, application: Application?,
                               layout: RAMLayout?, demangler: URL?) throws(KeelError) -> StackAnalysisReport {
        let analysis = try depths(elf: elf, path: path, application: application, demangler: demangler)
        let graph = analysis.graph, names = analysis.names

        // Tasks: from the manifest in its order, else every entry symbol in the image.
        var entries: [(task: String, spec: TaskSpec?, placement: StackPlacement?)] = []
        if let application {
            for (index, task) in application.tasks.enumerated() { entries.append((task.name, task, layout?.taskStacks[index])) }
        } else {
            for function in graph.functions where function.name.hasPrefix(TaskTableGenerator.entryPrefix) {
                let name = String(function.name.dropFirst(TaskTableGenerator.entryPrefix.count))
                if name != "idle" { entries.append((name, nil, nil)) }
            }
        }
        entries.append(("idle", nil, layout?.idleStack))
        let returnedIndex = graph.index(named: "keel_task_returned")
        let returned = returnedIndex.map { analysis.depth(of: $0) }
        // A fixed stack in a split image reaches `__morestack` only when the prologue refuses
        // a call, which is the overflow itself, so its worst case leaves that call out (the
        // refusal's own run below the limit is UncheckedChains' to prove).
        let fixedAnalysis = graph.index(named: "__morestack").map { moreStack in
            WorstCaseStack(graph: graph, names: names, hints: analysis.hints,
                           replacing: [moreStack: StackDepth(bytes: 0, path: [], unbounded: [], largestFrame: nil)])
        } ?? analysis

        var tasks: [TaskStackResult] = []
        for (name, spec, placement) in entries {
            let symbol = TaskTableGenerator.entrySymbol(name)
            guard let entry = graph.index(named: symbol) else {
                throw .elf("\(path) has no \(symbol): the image was not built by this version of `keel build`")
            }
            let taskAnalysis = spec.map { $0.segmented == nil } ?? false ? fixedAnalysis : analysis
            var depth = taskAnalysis.depth(of: entry)
            if let returned, returned.bytes > depth.bytes || !returned.isBounded {
                let reasons = depth.unbounded + returned.unbounded.filter { !depth.unbounded.contains($0) }
                if returned.bytes > depth.bytes { depth = returned }
                depth.unbounded = reasons
            }
            let declared = spec.map { $0.segmented?.maximumBytes ?? $0.stackBytes } ?? placement.map { Int($0.bytes) }
            // A task that uses the FPU takes its exceptions with extended frames.
            let floatingPoint = FloatingPointUse.route(from: [entry] + (returnedIndex.map { [$0] } ?? []), graph: graph, analysis: taskAnalysis)
            let exceptionFrameBytes = floatingPoint == nil ? exceptionFrameBytes : FloatingPointUse.extendedFrameBytes
            let worst = depth.isBounded ? depth.bytes &+ exceptionFrameBytes : nil
            let protections = (spec?.protections ?? (name == "idle" ? [.paint] : [])).sorted().map(\.rawValue)
            let points = depth.unbounded.map { reason in
                UnboundedPoint(reason, path: ([entry] + (returnedIndex.map { [$0] } ?? [])).lazy
                    .compactMap { analysis.route(from: $0, to: reason) }.first.map { $0.map { names[$0] } })
            }
            var result = TaskStackResult(
                task: name, entry: symbol, pathBytes: depth.bytes, exceptionFrameBytes: exceptionFrameBytes,
                worstBytes: worst, path: depth.path, unbounded: depth.unbounded.map(\.description), unboundedPoints: points,
                declaredBytes: declared, largestFrame: depth.largestFrame, guardBytes: placement?.guardBytes ?? 0,
                redZoneBytes: UInt32(spec?.redZoneBytes ?? 0),
                protections: protections, segmented: spec?.segmented != nil, stillNeeded: "")
            result.floatingPoint = floatingPoint.map { $0.map { names[$0] } }
            result.stillNeeded = stillNeeded(result, board: board)
            tasks.append(result)
        }

        let handlers = handlerStack(graph: graph, analysis: analysis, names: names, board: board,
                                    declared: application?.handlerStackBytes ?? layout.map { Int($0.handlerStack.bytes) },
                                    tasksUseFPU: tasks.contains { $0.floatingPoint != nil })
        // Helper frames actually reached, for the report's "where frames came from" list.
        var reached = Set<Int>()
        var work = tasks.compactMap { graph.index(named: $0.entry) } + graph.vectors.values
        if let index = graph.index(named: "keel_task_returned") { work.append(index) }
        while let next = work.popLast() {
            guard reached.insert(next).inserted else { continue }
            work += graph.functions[next].calls.map(\.callee)
        }
        let helpers = reached.sorted().compactMap { index -> PathStep? in
            let function = graph.functions[index]
            if case .compiler = function.frame { return nil }
            return PathStep(function: names[index], bytes: function.frame.bytes ?? 0, source: function.frame.source, symbol: function.name)
        }
        let chains = UncheckedChains(analysis: analysis)
        return StackAnalysisReport(image: path, board: board?.name, mpu: board?.mpu, tasks: tasks, handlers: handlers, helpers: helpers,
                                   uncheckedChains: chains.map { $0.report(slackBytes: UInt32(SegmentedStack.slackBytes)) })
    }

    /// The image's call graph and depths, with the manifest's hints and the built-in facts.
    public static func depths(elf: ELFFile, path: String, application: Application?,
                              demangler: URL?) throws(KeelError) -> WorstCaseStack {
        let graph: CallGraph
        do { graph = try CallGraph(elf: elf) } catch { throw .elf(error.description) }
        guard graph.hasCompilerFrames else {
            throw .elf("\(path) has no .stack_sizes section: build it with `keel build` (clang -fstack-size-section)")
        }
        let names = readableNames(graph.functions.map(\.name), demangler: demangler)
        var hints = application?.analysisHints ?? AnalysisHints()
        hints.indirectTargets.merge(builtInTargets(graph: graph, names: names)) { manifest, _ in manifest }
        hints.recursionDepth.merge(SwiftRuntimeFacts.recursionDepth) { manifest, _ in manifest }
        return WorstCaseStack(graph: graph, names: names, hints: hints)
    }

    // MARK: Handler stack

    /// Where every blocking call of the kernel waits (`Waiting.wait`) or sleeps (`Time.sleep`),
    /// under fixed names.
    public static let waitSymbols = ["keel_wait", "keel_sleep", "keel_sleep_until"]

    static func handlerStack(graph: CallGraph, analysis: WorstCaseStack, names: [String], board: Board?,
                             declared: Int?, tasksUseFPU: Bool = false) -> HandlerStackResult {
        var problems: [UnboundedReason] = []
        var points: [UnboundedPoint] = []
        /// A function's depth; what makes it unbounded joins the handler stack's findings.
        func depth(ofFunction index: Int) -> StackDepth {
            let result = analysis.depth(of: index)
            for reason in result.unbounded where !problems.contains(reason) {
                problems.append(reason)
                points.append(UnboundedPoint(reason, path: analysis.route(from: index, to: reason)?.map { names[$0] }))
            }
            return result
        }
        func depth(_ vector: Int) -> StackDepth? { graph.vectors[vector].map(depth(ofFunction:)) }
        // An exception that preempts handler code which used the FPU (a handler computing in
        // floats, PendSV saving a task's s16-s31) stacks an extended frame on the handler stack.
        let handlerCode = FloatingPointUse.handlerEntries(graph: graph, tasksUseFPU: tasksUseFPU)
        let floatingPoint = FloatingPointUse.route(from: handlerCode, graph: graph, analysis: analysis)
        let frame = floatingPoint == nil ? exceptionFrameBytes : FloatingPointUse.extendedFrameBytes
        let reset = depth(1), supervisor = depth(11)
        let boot = (reset?.bytes ?? 0) &+ frame &+ (supervisor?.bytes ?? 0)
        let lowest = [depth(14), depth(15)].compactMap { $0 }.max { $0.bytes < $1.bytes }
        let irqVectors = graph.vectors.keys.filter { $0 >= 16 }.sorted()
        // A zero-latency interrupt's vector is its handler; every other line's is the dispatcher.
        let zeroLatency = irqVectors.filter { graph.functions[graph.vectors[$0]!].name != dispatcherSymbol }
        let dispatched = irqVectors.count - zeroLatency.count
        let handlers = Set(dispatcherBodies(graph).flatMap { analysis.indirectTargets(of: $0) ?? [] })
        let handlerNames = handlers.map { names[$0] }.sorted()
            + zeroLatency.map { names[graph.vectors[$0]!] + " (zero-latency, line \($0 - 16))" }
        let levelPaths = Self.interruptLevels(
            dispatched: irqVectors.filter { !zeroLatency.contains($0) }.compactMap { depth($0) }.max { $0.bytes < $1.bytes },
            lines: dispatched, handlers: handlers.map { (graph.functions[$0].name, depth(ofFunction: $0)) },
            zeroLatency: zeroLatency.compactMap { depth($0) }, frame: frame)
        let levels = levelPaths.count
        let running = levelPaths.reduce(lowest?.bytes ?? 0) { $0 &+ $1.reduce(0) { $0 &+ $1.bytes } }
        let fault = depth(3)
        // Read from the fault entry's code: the ARMv7-M/v8-M entry sets SP (and the table
        // vouches for it); the ARMv6-M entry pushes onto whatever MSP holds.
        let faultRestartsStack = graph.vectors[3].map { graph.functions[$0].stackFromRegisterSite != nil
            && graph.functions[$0].helper?.stackSwitch != nil } ?? false
        let nmi = depth(2)
        let faultOnTop = faultRestartsStack ? 0 : (fault?.bytes ?? 0) &+ frame
        let anyTime = max(faultOnTop, (nmi?.bytes ?? 0) &+ frame)
        let faultFresh = faultRestartsStack ? (fault?.bytes ?? 0) : 0
        // `__morestack`'s slow path (a task's split that found nothing kept): grow's tree on
        // the handler stack, from its top, with interrupts masked, so no handler is under it
        // and only a fault or an NMI can come on top.
        let slowPath = graph.handlerStackCalls.map(depth(ofFunction:)).max { $0.bytes < $1.bytes }
        let slowPathBytes = slowPath.map { $0.bytes &+ anyTime } ?? 0
        let worst = max(boot, running &+ anyTime, faultFresh, slowPathBytes)
        /// `steps`, then whichever of a fault and an NMI goes deeper on top of them.
        func withAnyTimeOnTop(_ steps: [PathStep]) -> [PathStep] {
            guard let top = faultOnTop >= (nmi?.bytes ?? 0) &+ frame ? fault : nmi else { return steps }
            return steps + [PathStep(function: "exception frame", bytes: frame, source: "hardware")] + top.path
        }
        let path: [PathStep]
        if worst == boot, let reset {
            path = reset.path + [PathStep(function: "SVC exception frame", bytes: frame, source: "hardware")] + (supervisor?.path ?? [])
        } else if worst == faultFresh, let fault {
            path = fault.path
        } else if worst == slowPathBytes, let slowPath, slowPathBytes > running &+ anyTime {
            path = withAnyTimeOnTop([PathStep(function: "__morestack's slow path, from a task (interrupts masked)", bytes: 0,
                                              source: "MoreStack.S")] + slowPath.path)
        } else {
            path = withAnyTimeOnTop((lowest?.path ?? []) + levelPaths.flatMap { $0 })
        }
        // SysTick, PendSV and the device interrupts run on the handler stack with no task to park.
        let blocking = BlockingCalls.chains(graph: graph, analysis: analysis, names: names,
                                            vectors: graph.vectors.filter { $0.key >= 14 }.sorted { $0.key < $1.key }.map(\.value)) { index in
            // The compiler may call a specialised copy ("specialized keel_wait").
            Self.waitSymbols.contains { WorstCaseStack.name($0, matches: graph.functions[index].name, readable: names[index]) }
        }
        // A zero-latency handler runs inside the kernel's critical sections: one that reaches
        // them (any call that masks at the ceiling) may find the kernel halfway through a change.
        let kernelCalls = BlockingCalls.chains(graph: graph, analysis: analysis, names: names,
                                               vectors: zeroLatency.map { graph.vectors[$0]! }) { index in
            Self.criticalSectionSymbols.contains(graph.functions[index].name) || graph.functions[index].maskingSite != nil
        }
        return HandlerStackResult(
            worstBytes: problems.isEmpty ? worst : nil, bootBytes: boot, runningBytes: running &+ anyTime,
            faultBytes: max(faultFresh, faultOnTop),
            interruptLevels: levels, segmentSlowPathBytes: slowPathBytes, interruptHandlers: handlerNames, path: path,
            unbounded: problems.map(\.description), unboundedPoints: points, declaredBytes: declared,
            blockingCalls: blocking.sorted { $0.joined(separator: " ") < $1.joined(separator: " ") },
            kernelCallsAboveCeiling: kernelCalls.sorted { $0.joined(separator: " ") < $1.joined(separator: " ") },
            floatingPoint: floatingPoint.map { $0.map { names[$0] } })
    }

    // MARK: Built-in resolution

    /// The kernel's own jumps through a register that the image itself can resolve:
    /// the device-interrupt dispatcher calls an attached handler, which is
    /// - a function of the application (KernelCode.swift): only the application attaches
    ///   handlers, so a kernel closure whose address is taken (the one the fault path runs on a
    ///   fresh stack, say) is no interrupt level, nor is a C function the kernel exports;
    /// - a `@convention(c)` function (a C name or a Swift `To` thunk) that Swift compiled
    ///   (it has a `.stack_sizes` entry: no assembly label such as `keel_morestack_end`,
    ///   no libgcc routine, no unnamed LLVM code), not a task entry and not a vector;
    /// - whose address is taken outside class metadata: the handler reaches
    ///   `DeviceInterrupts.attach` as a value, so code or plain data holds its address, while
    ///   a function whose address is only in metadata fills a vtable slot. That leaves out the
    ///   runtime's C-named placeholders: `swift_deletedMethodError` (the slot of every method
    ///   a class cannot call) and whatever the linker folded into a vtable method with the
    ///   same code (`swift_errorInMain` is a trap, like `canStoreElements(ofDynamicType:)` of
    ///   `__ContiguousArrayStorageBase`, and the global C name is the one kept).
    static func builtInTargets(graph: CallGraph, names: [String]) -> [String: [String]] {
        let excluded = Set(graph.vectors.values)
        let kernelCNames = KernelCode.exportedCNames(graph.functions.map(\.name))
        let handlers = graph.addressTakenOutsideClassMetadata.filter { index in
            let function = graph.functions[index], name = function.name
            guard !excluded.contains(index), !KernelCode.contains(symbol: name), !kernelCNames.contains(name),
                  case .compiler = function.frame, !name.hasPrefix("code@") else { return false }
            return !name.hasPrefix("$") || name.hasSuffix("To")
        }
        var result: [String: [String]] = [:]
        var attached = handlers.sorted().map { graph.functions[$0].name }
        // The kernel's own handlers (the hardware timer's, which acknowledges the device and
        // calls the application's the same way the dispatcher would, DeviceTimer.swift; the
        // console's, ConsoleRing.swift) are interrupt levels only in an image that attaches
        // them: code that takes the handler's address (`DeviceTimer.start`, or an application
        // function it was inlined into; the generated start code, in an image whose console
        // runs by interrupt)
        // is called, or itself held as a value. The kernel's own copy of `start` is in every
        // image, and nothing calls it where the application never starts the timer.
        // (The timer handler's own call resolves the same either way: another stored-closure
        // call may still name it, its address being taken by that copy.)
        for body in bodies(of: timerHandlerSymbol, graph) { result[graph.functions[body].name] = attached }
        attached += kernelHandlerSymbols.filter { attaches($0, graph) }
        for body in dispatcherBodies(graph) {
            result[graph.functions[body].name] = attached
        }
        return result
    }

    /// The interrupts nested on the handler stack at their deepest, one path per level (its
    /// exception frame first). Priorities are not known here, so any handler may preempt any
    /// other, but each at most once (a handler never preempts itself): one dispatched
    /// interrupt at the dispatcher's worst (an attached handler, or the report of an
    /// unexpected one), then each further attached handler once, deepest first, with at most
    /// what the dispatcher adds above a handler, then every zero-latency handler. At most one
    /// level per line the dispatcher serves. (Counting every level at the deepest handler's
    /// depth, as before the console's own handler was attached in every image, would charge
    /// that short handler as much as the deepest.)
    static func interruptLevels(dispatched: StackDepth?, lines: Int, handlers: [(symbol: String, depth: StackDepth)],
                                zeroLatency: [StackDepth], frame: UInt32) -> [[PathStep]] {
        let exceptionFrame = PathStep(function: "IRQ exception frame", bytes: frame, source: "hardware")
        var levels: [[PathStep]] = []
        if lines > 0, let dispatched {
            levels.append([exceptionFrame] + dispatched.path)
            var deepestFirst = handlers.sorted { $0.depth.bytes > $1.depth.bytes }
            // The dispatcher's frames above a handler: at most its worst less the deepest handler.
            let dispatchBytes = dispatched.bytes &- min(dispatched.bytes, deepestFirst.first?.depth.bytes ?? 0)
            // The first level already holds the handler its worst path runs.
            if let index = deepestFirst.firstIndex(where: { handler in dispatched.path.contains { $0.symbol == handler.symbol } }) {
                deepestFirst.remove(at: index)
            }
            for handler in deepestFirst.prefix(max(0, min(lines, handlers.count) - 1)) {
                levels.append([exceptionFrame, PathStep(function: "\(dispatcherSymbol) (at most)", bytes: dispatchBytes, source: "bound")]
                              + handler.depth.path)
            }
        }
        for handler in zeroLatency { levels.append([exceptionFrame] + handler.path) }
        return levels
    }

    /// The kernel's handler of the hardware timer's line (`DeviceTimer`).
    static let timerHandlerSymbol = "keel_timer_interrupt"
    /// The kernel's handlers the dispatcher may run: the timer's and the console UART's.
    static let kernelHandlerSymbols = [timerHandlerSymbol, "keel_console_interrupt"]

    /// True when some code that can run attaches the kernel's handler `symbol` (see `builtInTargets`).
    static func attaches(_ symbol: String, _ graph: CallGraph) -> Bool {
        guard let entry = graph.functions.firstIndex(where: { $0.name == symbol }),
              let takers = graph.takenBy[entry] else { return false }
        let called = Set(graph.functions.flatMap { $0.calls.map(\.callee) })
        return takers.contains { called.contains($0) || graph.addressTaken.contains($0) || graph.vectors.values.contains($0) }
    }

    /// `symbol` and the functions it calls, whichever holds a jump through a register.
    static func bodies(of symbol: String, _ graph: CallGraph) -> [Int] {
        guard let entry = graph.functions.firstIndex(where: { $0.name == symbol }) else { return [] }
        let candidates = Set([entry] + graph.functions[entry].calls.map(\.callee))
        return candidates.filter { !graph.functions[$0].registerJumps.isEmpty }.sorted()
    }

    /// The functions that jump to an attached handler: what the IRQ vectors point at (the C
    /// entry) or the Swift body that entry calls, whichever holds the jump. Thumb-2 code
    /// tail-calls the body; Thumb-1 code (the micro:bit, every split-stack image) calls it
    /// with `bl`, so both count.
    /// The device interrupts' common vector (the port's dispatcher, or the Swift one).
    static let dispatcherSymbol = "keel_interrupt_dispatch"
    /// The kernel's way into a critical section: the port's masking routine (Thumb-1 code on an
    /// ARMv7-M core calls it); elsewhere the mask is inline, found by its instruction
    /// (`CallGraph.Function.maskingSite`).
    static let criticalSectionSymbols: Set<String> = ["keel_interrupts_mask"]

    static func dispatcherBodies(_ graph: CallGraph) -> [Int] {
        let entries = Set(graph.vectors.filter { $0.key >= 16 && graph.functions[$0.value].name == dispatcherSymbol }.values)
        let candidates = Set(entries.flatMap { [$0] + graph.functions[$0].calls.map(\.callee) })
        return candidates.filter { !graph.functions[$0].registerJumps.isEmpty }.sorted()
    }

    // MARK: What is still needed

    static func stillNeeded(_ result: TaskStackResult, board: Board?) -> String {
        guard let worst = result.worstBytes else {
            // A segmented stack takes no detector but its prologue (and paint): the manifest
            // refuses the others on it, so none is suggested.
            if result.segmented {
                return "unbounded: the prologue checks every call and \"max\" caps the segments; bound it in the manifest to prove \"max\" holds it"
            }
            let detector: String
            switch board?.architecture {
            case .armv8m: detector = "limit-register"
            case .armv7m: detector = "mpu-guard (with a guard larger than every frame) or mpu-region"
            default: detector = "prologue-check (a call is refused before its frame is written; sp-check and red-zone catch the rest at the next switch)"
            }
            return "unbounded: keep a detector (\(detector)), or bound it in the manifest"
        }
        guard let declared = result.declaredBytes, let needed = StackCheck.neededBytes(result) else { return "bound \(worst) bytes" }
        if declared < needed {
            return result.segmented ? "\"max\" too small by \(needed - declared) bytes: the task can reach it and be stopped"
                : "too small by \(needed - declared) bytes: the stack can overflow"
        }
        if result.segmented { return "proven: a fixed stack of \(worst) bytes would do; segments are not needed" }
        return "proven: no detector needed for this image (keep paint to confirm in the field)"
    }

    // MARK: Names

    /// Readable names for symbols: Swift names demangled (simplified) in one process call.
    static func readableNames(_ symbols: [String], demangler: URL?) -> [String] {
        var names = symbols
        let swift = symbols.indices.filter { Symbolizer.isSwiftMangled(symbols[$0]) }
        guard let demangler, !swift.isEmpty else { return names }
        let bases = swift.map { index -> String in
            let symbol = symbols[index]
            return symbol.range(of: ".cold.").map { String(symbol[..<$0.lowerBound]) } ?? symbol
        }
        guard let result = try? Subprocess.run(demangler, ["--simplified", "--compact"] + bases), result.status == 0 else {
            return names
        }
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= swift.count else { return names }
        for (position, index) in swift.enumerated() {
            var name = lines[position]
            if let cold = symbols[index].range(of: ".cold.") { name += " [cold " + symbols[index][cold.upperBound...] + "]" }
            if let lastDot = symbols[index].range(of: "Tm", options: .backwards), lastDot.upperBound == symbols[index].endIndex {
                name += " [merged]"
            }
            names[index] = name
        }
        return names
    }
}

extension StackAnalysis {
    /// Analyses an image `keel build` produced, with its application's sizes, guards and hints.
    public static func analyze(image: FirmwareImage, demangler: URL?) throws(KeelError) -> StackAnalysisReport {
        let elf: ELFFile
        do { elf = try ELFFile(contentsOf: image.elf) } catch { throw .elf(error.description) }
        return try analyze(elf: elf, path: image.elf.path, board: image.board, application: image.application,
                           layout: image.layout, demangler: demangler)
    }
}
