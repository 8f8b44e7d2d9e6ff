// Every call that can block, reachable from an interrupt handler: one chain per place where
// the application's code calls into the kernel's blocking code.
//
// Why per call site and not per handler: a handler with four blocking calls needs four
// fixes, and a report that shows only the shortest chain hides the other three until the
// first is removed. A chain is reported for each call an application function makes into
// kernel code that can reach a wait (told apart by its address when a function makes
// several), from each exception that runs on the handler stack with no task to park
// (SysTick, PendSV, the device interrupts): the shortest calls from the exception's vector
// to the application's function, then the shortest from the kernel function to its wait. Kernel code is what the `Keel` module compiled (its Swift
// names, specialisations included) and the kernel's C names (`keel_`); a wait the kernel
// reaches on its own, with no application code on the way, is reported by its shortest chain.

public enum BlockingCalls {
    /// Chains (vector's function first, the wait last) from every exception `vectors` names
    /// to a function `isWait` accepts, one per application call into blocking kernel code.
    public static func chains(graph: CallGraph, analysis: WorstCaseStack, names: [String], vectors: [Int],
                              isWait: (Int) -> Bool) -> [[String]] {
        let count = graph.functions.count
        // Functions from which a wait is reachable: backwards from the waits.
        var callers = Array(repeating: [Int](), count: count)
        for function in 0..<count { for callee in analysis.callees(of: function) { callers[callee].append(function) } }
        var blocks = Array(repeating: false, count: count)
        var work = (0..<count).filter(isWait)
        for wait in work { blocks[wait] = true }
        while let next = work.popLast() {
            for caller in callers[next] where !blocks[caller] {
                blocks[caller] = true
                work.append(caller)
            }
        }
        var chains: [[String]] = []
        var seen = Set<[Int]>()
        for vector in vectors where blocks[vector] {
            var found = false
            // Shortest routes from the vector (breadth first), and each application → kernel call met.
            var parent: [Int: Int] = [vector: vector]
            var queue = [vector], next = 0
            while next < queue.count {
                let node = queue[next]
                next += 1
                // Each direct call of blocking kernel code, by its site: two inlined waits in one
                // function are two calls, told apart by where they are.
                let calls = graph.functions[node].calls.filter { blocks[$0.callee] && KernelCode.contains(symbol: graph.functions[$0.callee].name) }
                if !KernelCode.contains(symbol: graph.functions[node].name) {
                    for call in calls {
                        found = true
                        guard let tail = analysis.route(from: call.callee, toFunctionWhere: isWait),
                              seen.insert([node, Int(call.site)]).inserted else { continue }
                        var head = [node]
                        while let previous = parent[head[0]], previous != head[0] { head.insert(previous, at: 0) }
                        let caller = names[node] + (calls.count > 1 ? " (call at 0x\(String(call.site, radix: 16)))" : "")
                        chains.append(head.dropLast().map { names[$0] } + [caller] + tail.map { names[$0] })
                    }
                }
                for callee in analysis.callees(of: node) {
                    if parent[callee] == nil, blocks[callee] {
                        parent[callee] = node
                        queue.append(callee)
                    }
                }
            }
            if !found, let route = analysis.route(from: vector, toFunctionWhere: isWait), seen.insert(route).inserted {
                chains.append(route.map { names[$0] })
            }
        }
        return chains
    }
}
