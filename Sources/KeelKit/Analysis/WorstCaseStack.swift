// Worst-case stack depth over the call graph: the longest path from a function, and why it may be unbounded.
//
// Why this shape: a bound is only useful if it is never too small. So every point the
// analysis cannot see through — a recursion, a frame the code sizes at run time, a branch
// into no known function — makes the result
// unbounded, with the reason and the place, and is never counted as zero. The bytes
// reported next to an unbounded result are what the visible part needs (each cycle walked
// once): a floor, not a bound. A jump through a register goes to the functions the
// manifest names for it; a function whose every such jump is a class's destroy call
// (ClassDestroyCall.swift) reaches the classes' deallocating deinits; any other reaches
// every function whose address the image takes (the only ones a register can hold in a
// statically linked image). The manifest can close
// each gap: a byte bound for a function's whole tree, a recursion depth, or the targets
// of a register jump.
//
// The graph is split into strongly connected components (Tarjan); a component with more
// than one function, or one that calls itself, is a recursion. Depths are computed once
// per component, callees first. A cycle closed only by a jump resolved to every
// address-taken function is not called a recursion: a handler that runs the closures stored
// in an array is itself address-taken, so that resolution makes it call itself, whether or
// not its own address can ever reach the call. It is reported as the call it is, with the
// fix that closes it (naming the call's targets).

/// What the manifest (or a caller) tells the analysis that the image cannot.
public struct AnalysisHints: Sendable, Equatable {
    /// Function → bytes its whole call tree may use (replaces the computed depth).
    public var bounds: [String: UInt32] = [:]
    /// Function → how many times the recursion it is part of can nest.
    public var recursionDepth: [String: UInt32] = [:]
    /// Function → the functions its jumps through a register can reach.
    public var indirectTargets: [String: [String]] = [:]

    public init(bounds: [String: UInt32] = [:], recursionDepth: [String: UInt32] = [:],
                indirectTargets: [String: [String]] = [:]) {
        self.bounds = bounds
        self.recursionDepth = recursionDepth
        self.indirectTargets = indirectTargets
    }
}

/// Why a depth is not a bound.
public enum UnboundedReason: Sendable, Hashable, CustomStringConvertible {
    /// Functions that call each other (or one that calls itself), in call order.
    case recursion(cycle: [String])
    /// SP set from a register: a frame sized at run time.
    case dynamicFrame(function: String, site: UInt32)
    /// A call or branch to an address in no function.
    case unknownTarget(function: String, site: UInt32, target: UInt32)
    /// A hint names a function the image does not have.
    case unknownHintTarget(function: String, target: String)
    /// A jump through a register, resolved to every address-taken function, reaches one that
    /// leads back to the jump's function: a cycle only that resolution makes.
    case callThroughRegisterMayReachItself(function: String, site: UInt32, target: String)

    public var description: String {
        switch self {
        case .recursion(let cycle):
            "recursion: " + (cycle + [cycle[0]]).joined(separator: " -> ")
        case .dynamicFrame(let function, let site):
            "frame sized at run time (SP set from a register at 0x\(String(site, radix: 16))) in \(function)"
        case .unknownTarget(let function, let site, let target):
            "call at 0x\(String(site, radix: 16)) in \(function) goes to 0x\(String(target, radix: 16)), which is in no function"
        case .unknownHintTarget(let function, let target):
            "the manifest names \(target) as a target of \(function), but the image has no such function"
        case .callThroughRegisterMayReachItself(let function, let site, let target):
            "the call through a register at 0x\(String(site, radix: 16)) in \(function) (a stored closure or function pointer) "
                + "may reach any function whose address the image takes, and \(target) leads back to it: "
                + "a recursion only if that call can reach \(target)"
        }
    }
}

/// One step of a deepest path.
public struct PathStep: Sendable, Equatable, Codable {
    public var function: String
    /// Bytes this function adds (its frame; for a bounded recursion, depth × the cycle's frames).
    public var bytes: UInt32
    /// Where the bytes come from: compiler, table, scanned, bound, recursion×N.
    public var source: String
    /// The ELF symbol ("" for the hardware's exception frames).
    public var symbol: String = ""
}

/// The worst case from one function.
public struct StackDepth: Sendable, Equatable {
    /// Bytes on the deepest path (for an unbounded result: the visible part, each cycle once).
    public var bytes: UInt32
    /// The deepest path, entry first.
    public var path: [PathStep]
    /// Empty when `bytes` is a bound.
    public var unbounded: [UnboundedReason]
    public var isBounded: Bool { unbounded.isEmpty }
    /// The largest single frame anywhere in the tree (a frame that can jump a guard).
    public var largestFrame: PathStep?
}

public struct WorstCaseStack: Sendable {
    public let graph: CallGraph
    public let names: [String]
    public let hints: AnalysisHints

    private var edges: [[Int]] = []
    /// The edges of each jump resolved to every address-taken function (not by the manifest,
    /// not a class's destroy call), with the jump's site.
    private var assumedEdges: [Int: (site: UInt32, targets: Set<Int>)] = [:]
    private var hintProblems: [Int: [UnboundedReason]] = [:]
    private var boundOverride: [Int: UInt32] = [:]
    private var replaced: [Int: StackDepth] = [:]
    private var component: [Int] = []
    private var components: [[Int]] = []
    private var results: [StackDepth?] = []

    /// `names` are the readable names (same order as `graph.functions`); hints match either.
    /// `replacing` gives some functions a fixed result instead of their tree (the split-stack
    /// check cuts a chain at every function with a prologue; see UncheckedChains.swift).
    public init(graph: CallGraph, names: [String]? = nil, hints: AnalysisHints = AnalysisHints(),
                replacing: [Int: StackDepth] = [:]) {
        self.graph = graph
        self.replaced = replacing
        self.names = names ?? graph.functions.map(\.name)
        self.hints = hints
        let count = graph.functions.count
        edges = Array(repeating: [], count: count)
        let vectors = Set(graph.vectors.values)
        // A jump through a register reaches a function whose address the code takes; task
        // entries and vectors are only ever entered by the kernel and the hardware, and the
        // helper table's assembly only by direct calls (the kernel takes `__morestack`'s
        // address to compare a PC with it, not to call it).
        let addressTaken = graph.addressTaken.filter { index in
            !vectors.contains(index) && !graph.functions[index].name.hasPrefix(TaskTableGenerator.entryPrefix)
                && graph.functions[index].helper == nil
        }.sorted()
        let destroyers = graph.classDestroyers.sorted()
        let skipped = Set(graph.functions.indices.filter { SwiftRuntimeFacts.neverRuns(symbol: graph.functions[$0].name, readable: self.names[$0]) })
        for (index, function) in graph.functions.enumerated() {
            var targets = function.calls.map(\.callee)
            if !function.registerJumps.isEmpty, function.helper?.registerJumps == nil {
                if let named = hintValue(hints.indirectTargets, for: index) {
                    for name in named {
                        let found = self.functions(matching: name)
                        if found.isEmpty { hintProblems[index, default: []].append(.unknownHintTarget(function: self.names[index], target: name)) }
                        targets += found
                    }
                } else {
                    // A class's destroy call reaches the classes' deallocating deinits only.
                    let onlyDestroys = !destroyers.isEmpty && function.registerJumps.allSatisfy(\.isClassDestroy)
                    targets += onlyDestroys ? destroyers : addressTaken
                    if !onlyDestroys {
                        let site = function.registerJumps.first { !$0.isClassDestroy }?.site ?? function.registerJumps[0].site
                        assumedEdges[index] = (site, Set(addressTaken).subtracting(function.calls.map(\.callee)))
                    }
                }
            }
            edges[index] = replacing[index] != nil ? [] : Array(Set(targets).subtracting(skipped)).sorted()
            if let bound = hintValue(hints.bounds, for: index) { boundOverride[index] = bound }
        }
        findComponents()
        results = Array(repeating: nil, count: components.count)
        for componentIndex in components.indices { solve(componentIndex) }   // Tarjan yields callees first
    }

    /// The worst case from `function`.
    public func depth(of function: Int) -> StackDepth { results[component[function]]! }

    /// The functions `function` calls, jumps to or tail-calls, as the depths see them.
    public func callees(of function: Int) -> [Int] { edges[function] }

    /// True when `function` is part of a recursion (calls itself, or calls something that calls it).
    public func isRecursive(_ function: Int) -> Bool {
        components[component[function]].count > 1 || edges[function].contains(function)
    }

    /// The shortest chain of calls from `function` to the place `reason` names, both ends
    /// included: for a recursion, down to the first function of its cycle that the chain
    /// meets. The deepest path need not pass there (it follows bytes, and the visible part
    /// of a cycle can be shallower than another branch), so a report that names a reason
    /// shows this chain with it. A function the manifest bounds hides its tree, as in the
    /// depths. Nil when the place is not below `function`.
    public func route(from function: Int, to reason: UnboundedReason) -> [Int]? {
        let isPlace: (Int) -> Bool
        switch reason {
        case .recursion(let cycle):
            isPlace = { cycle.contains(names[$0]) && isRecursive($0) }
        case .dynamicFrame(let name, _), .unknownTarget(let name, _, _), .unknownHintTarget(let name, _),
             .callThroughRegisterMayReachItself(let name, _, _):
            isPlace = { names[$0] == name }
        }
        return route(from: function, toFunctionWhere: isPlace)
    }

    /// The shortest chain of calls from `function` to one for which `isPlace` holds, `function`
    /// first (nil: none is reachable). A bounded function's calls are not followed.
    public func route(from function: Int, toFunctionWhere isPlace: (Int) -> Bool) -> [Int]? {
        var caller: [Int: Int] = [function: function]
        var queue = [function]
        var next = 0
        while next < queue.count {
            let node = queue[next]
            next += 1
            if isPlace(node) {
                var chain = [node]
                while let previous = caller[chain[0]], previous != chain[0] { chain.insert(previous, at: 0) }
                return chain
            }
            if boundOverride[node] != nil { continue }
            for callee in edges[node] where caller[callee] == nil {
                caller[callee] = node
                queue.append(callee)
            }
        }
        return nil
    }

    /// Functions whose symbol or readable name is `name` (or starts with `name(`).
    public func functions(matching name: String) -> [Int] {
        graph.functions.indices.filter { Self.name(name, matches: graph.functions[$0].name, readable: names[$0]) }
    }

    static func name(_ key: String, matches symbol: String, readable: String) -> Bool {
        if symbol == key || readable == key { return true }
        var plain = Substring(readable)
        for prefix in ["specialized ", "static ", "@objc "] where plain.hasPrefix(prefix) { plain = plain.dropFirst(prefix.count) }
        return plain == key || plain.hasPrefix(key + "(")
    }

    /// The functions `function`'s jumps through a register can reach, when the hints name them.
    public func indirectTargets(of function: Int) -> [Int]? {
        hintValue(hints.indirectTargets, for: function).map { $0.flatMap { functions(matching: $0) } }
    }

    private func hintValue<Value>(_ table: [String: Value], for index: Int) -> Value? {
        for (key, value) in table where Self.name(key, matches: graph.functions[index].name, readable: names[index]) {
            return value
        }
        return nil
    }

    // MARK: Components (Tarjan, iterative so deep graphs cannot overflow the host stack)

    private mutating func findComponents() {
        let count = graph.functions.count
        var order = Array(repeating: -1, count: count)
        var low = Array(repeating: 0, count: count)
        var onStack = Array(repeating: false, count: count)
        var stack: [Int] = []
        var next = 0
        component = Array(repeating: -1, count: count)
        for root in 0..<count where order[root] < 0 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            order[root] = next; low[root] = next; next += 1
            stack.append(root); onStack[root] = true
            while let (node, edge) = work.last {
                if edge < edges[node].count {
                    work[work.count - 1].edge += 1
                    let callee = edges[node][edge]
                    if order[callee] < 0 {
                        order[callee] = next; low[callee] = next; next += 1
                        stack.append(callee); onStack[callee] = true
                        work.append((callee, 0))
                    } else if onStack[callee] {
                        low[node] = min(low[node], order[callee])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last { low[parent.node] = min(low[parent.node], low[node]) }
                if low[node] == order[node] {
                    var members: [Int] = []
                    while let member = stack.popLast() {
                        onStack[member] = false
                        component[member] = components.count
                        members.append(member)
                        if member == node { break }
                    }
                    components.append(members.reversed())
                }
            }
        }
    }

    /// When `members` (one component) call each other only through jumps resolved to every
    /// address-taken function: one such jump (its function and site) and a member it reaches.
    /// Nil when the component is a recursion without them.
    private func assumedCycle(_ members: [Int]) -> (caller: Int, site: UInt32, target: Int)? {
        let memberSet = Set(members)
        func certain(_ from: Int) -> [Int] {
            edges[from].filter { memberSet.contains($0) && !(assumedEdges[from]?.targets.contains($0) ?? false) }
        }
        // A cycle along the other edges (depth first, colours: 0 new, 1 on the path, 2 done).
        var colour: [Int: Int] = [:]
        for root in members where colour[root] == nil {
            var work: [(node: Int, next: Int)] = [(root, 0)]
            colour[root] = 1
            while let (node, next) = work.last {
                let out = certain(node)
                if next < out.count {
                    work[work.count - 1].next += 1
                    switch colour[out[next]] {
                    case 1: return nil
                    case nil: colour[out[next]] = 1; work.append((out[next], 0))
                    default: break
                    }
                } else {
                    colour[node] = 2
                    work.removeLast()
                }
            }
        }
        for member in members {
            if let assumed = assumedEdges[member], let target = assumed.targets.intersection(memberSet).min() {
                return (member, assumed.site, target)
            }
        }
        return nil
    }

    // MARK: Depths

    /// A component's result: for each member, its depth; shared by all members.
    private mutating func solve(_ index: Int) {
        let members = components[index]
        if members.count == 1, let fixed = replaced[members[0]] {   // no edges: always its own component
            results[index] = fixed
            return
        }
        let memberSet = Set(members)
        let recursive = members.count > 1 || edges[members[0]].contains(members[0])

        // What the component's own code contributes.
        var problems: [UnboundedReason] = []
        var frameSum: UInt32 = 0
        var largest: PathStep? = nil
        for member in members {
            let function = graph.functions[member]
            problems += hintProblems[member] ?? []
            if boundOverride[member] != nil { continue }
            switch function.frame {
            case .dynamic(let site): problems.append(.dynamicFrame(function: names[member], site: site))
            default: break
            }
            let bytes = function.frame.bytes ?? 0
            frameSum &+= bytes
            if largest == nil || bytes > largest!.bytes { largest = PathStep(function: names[member], bytes: bytes, source: function.frame.source, symbol: function.name) }
            for stray in function.strayTargets {
                problems.append(.unknownTarget(function: names[member], site: stray.site, target: stray.target))
            }
        }

        // The deepest way out of the component.
        var exitBytes: UInt32 = 0
        var exitPath: [PathStep] = []
        for member in members {
            for callee in edges[member] where !memberSet.contains(callee) {
                let result = results[component[callee]]!
                problems += result.unbounded
                if let frame = result.largestFrame, largest == nil || frame.bytes > largest!.bytes { largest = frame }
                if result.bytes > exitBytes || exitPath.isEmpty && result.bytes == exitBytes {
                    exitBytes = result.bytes
                    exitPath = result.path
                }
            }
        }

        // A bound from the manifest replaces everything below the function it names.
        if members.count == 1, let bound = boundOverride[members[0]] {
            results[index] = StackDepth(bytes: bound, path: [PathStep(function: names[members[0]], bytes: bound, source: "bound", symbol: graph.functions[members[0]].name)],
                                        unbounded: hintProblems[members[0]] ?? [], largestFrame: largest)
            return
        }

        var ownSteps: [PathStep]
        var ownBytes: UInt32
        if recursive {
            let cycle = members.map { names[$0] }
            if let depth = members.compactMap({ hintValue(hints.recursionDepth, for: $0) }).first {
                ownBytes = frameSum &* depth
                ownSteps = [PathStep(function: cycle.joined(separator: " -> "), bytes: ownBytes, source: "recursion×\(depth)",
                                    symbol: graph.functions[members[0]].name)]
            } else if let (caller, site, target) = assumedCycle(members) {
                problems.append(.callThroughRegisterMayReachItself(function: names[caller], site: site, target: names[target]))
                ownBytes = frameSum
                ownSteps = members.map { PathStep(function: names[$0], bytes: graph.functions[$0].frame.bytes ?? 0,
                                                  source: graph.functions[$0].frame.source, symbol: graph.functions[$0].name) }
            } else {
                problems.append(.recursion(cycle: cycle))
                ownBytes = frameSum
                ownSteps = members.map { PathStep(function: names[$0], bytes: graph.functions[$0].frame.bytes ?? 0,
                                                  source: graph.functions[$0].frame.source, symbol: graph.functions[$0].name) }
            }
        } else {
            let only = members[0]
            ownBytes = graph.functions[only].frame.bytes ?? 0
            ownSteps = [PathStep(function: names[only], bytes: ownBytes, source: graph.functions[only].frame.source,
                                 symbol: graph.functions[only].name)]
        }
        var seen = Set<UnboundedReason>()
        problems = problems.filter { seen.insert($0).inserted }
        results[index] = StackDepth(bytes: ownBytes &+ exitBytes, path: ownSteps + exitPath,
                                    unbounded: problems, largestFrame: largest)
    }
}
