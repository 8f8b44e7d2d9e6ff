// Which contexts use the FPU, read from the image: the functions reachable from a task's entry
// (or a handler's vector) that hold an FP or vector instruction.
//
// Why it matters for stacks: a context that has executed one FP instruction has CONTROL.FPCA
// set, and from then on every exception taken from it stacks an extended frame: r0-r3, r12,
// lr, pc, xPSR, then s0-s15, FPSCR and a reserved word (26 words, 104 bytes, plus a word to
// align SP to 8), not the basic 8 words (ARMv7-M B1.5.7). With lazy stacking (FPCCR.LSPEN,
// Keel's setting) the hardware reserves all of it at once and writes only the integer words
// at the bottom at first: the write lands up to 108 bytes below SP, so a guard or a red zone
// smaller than that can be stepped over by the frame itself.

public enum FloatingPointUse {
    /// The extended frame: 26 words and the alignment word.
    public static let extendedFrameBytes: UInt32 = 108

    /// The route from one of `roots` to the first function with an FP instruction (the
    /// function that holds it last), following calls and the resolved jumps through a
    /// register; nil when no reachable code uses the FPU.
    public static func route(from roots: [Int], graph: CallGraph, analysis: WorstCaseStack) -> [Int]? {
        var parent: [Int: Int] = [:]
        var seen = Set(roots)
        var queue = roots
        var head = 0
        while head < queue.count {
            let index = queue[head]
            head += 1
            if graph.functions[index].floatingPointSite != nil {
                var route = [index]
                while let up = parent[route[0]] { route.insert(up, at: 0) }
                return route
            }
            let next = graph.functions[index].calls.map(\.callee) + (analysis.indirectTargets(of: index) ?? [])
            for callee in next where seen.insert(callee).inserted {
                parent[callee] = index
                queue.append(callee)
            }
        }
        return nil
    }

    /// The handler code whose FP use makes the handler stack's frames extended: every vector
    /// from NMI on, PendSV only when some task uses the FPU (its FP instructions run only for
    /// a task whose frame is an extended one).
    public static func handlerEntries(graph: CallGraph, tasksUseFPU: Bool) -> [Int] {
        graph.vectors.filter { $0.key >= 2 && (tasksUseFPU || $0.key != 14) }.map(\.value).sorted()
    }

    /// Every function reachable from a root whose code uses the FPU: code that may run with
    /// CONTROL.FPCA set, so an exception taken there stacks an extended frame.
    public static func reachableFromContextsUsingFPU(roots: [Int], graph: CallGraph, analysis: WorstCaseStack) -> Set<Int> {
        var inFloatingPointContext = Set<Int>()
        for root in roots where !inFloatingPointContext.contains(root) {
            var reached = Set<Int>()
            var usesFPU = false
            var work = [root]
            while let index = work.popLast() {
                guard reached.insert(index).inserted else { continue }
                if graph.functions[index].floatingPointSite != nil { usesFPU = true }
                work += graph.functions[index].calls.map(\.callee) + (analysis.indirectTargets(of: index) ?? [])
            }
            if usesFPU { inFloatingPointContext.formUnion(reached) }
        }
        return inFloatingPointContext
    }
}
