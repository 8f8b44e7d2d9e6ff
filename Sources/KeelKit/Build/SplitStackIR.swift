// The split-stack route's one rewrite of the compiler's IR: which functions keep the prologue.
//
// `swiftc -Xcc -fsplit-stack` marks every function "split-stack", and LLVM emits the
// prologue only for a Linux triple. This pass (1) sets the triple to a Linux one: the M0's
// `thumbv6m-unknown-linux-gnueabi` (Thumb-1, whose prologue loads `__STACK_LIMIT` itself;
// also every Thumb-1 route), or the M3's and M33's own Thumb-2 architecture
// (`triple(for:)`, whose prologue SplitPrologueRewrite.swift fixes in the assembly), and
// (2) takes the mark off every function that must run without a segment limit:
//
//   the roots: every function with a C name (`@_cdecl`: the exception handlers, the reset
//   code, the segment pool's grow and release, memcpy and the other runtime entry points),
//   and everything they reach through direct calls.
//
// A handler runs on the handler stack, where a task's limit means nothing, and the pool's
// own code runs inside `__morestack`, where a check would recurse. What stays split is the
// code only tasks reach: task entries, the closures and API they call, and the standard
// library's specialisations they use. Calls through a function pointer (task entries,
// interrupt handlers attached at run time) are not followed, so a task's code stays split
// even though the kernel starts it; an application's interrupt handler is split code, and
// the dispatcher gives it the handler stack's limit while it runs.
//
// A second pass (after a first link, see FirmwareBuilder) also takes the mark off the task
// code the stack analysis proved needs no check (`nosplit`).
//
// Source-file debug info would be the obvious test, but the optimiser leaves many kernel
// functions with `<compiler-generated>` as their file; reachability is exact.

public enum SplitStackIR {
    /// Thumb-1, on every core (the M0's split route and the Thumb-1 routes).
    public static let triple = "thumbv6m-unknown-linux-gnueabi"

    /// The board's own architecture as a Linux triple (`thumbv7m-none-eabi` ->
    /// `thumbv7m-unknown-linux-gnueabi`): the split route's triple on the M3 and M33.
    public static func triple(for board: Board) -> String {
        let architecture = board.clangTarget.split(separator: "-").first.map(String.init) ?? "thumbv6m"
        return architecture + "-unknown-linux-gnueabi"
    }

    public struct Result: Sendable {
        public var text: String
        /// Functions that keep the prologue.
        public var split: [String]
        /// Functions it was taken from (reached from a root).
        public var unsplit: [String]
        /// Task code it was taken from because the analysis proved it needs none (`nosplit`).
        public var nosplit: [String]
    }

    /// Rewrites `ir` (one module's textual IR) for `triple`. With `splitStack` false only the
    /// triple and every "split-stack" mark go: the same code without any prologue. `nosplit`
    /// names task code that loses the prologue too (UncheckedChains.nosplitChoice).
    public static func rewrite(_ ir: String, triple: String = triple, splitStack: Bool, nosplit: Set<String> = []) -> Result {
        var lines = ir.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var functions: [String: Function] = [:]
        var order: [String] = []
        var current: String? = nil
        for (number, line) in lines.enumerated() {
            if line.hasPrefix("target triple = ") {
                lines[number] = "target triple = \"\(triple)\""
            } else if line.hasPrefix("define "), let name = definedName(line) {
                functions[name] = Function(line: number, callees: [])
                order.append(name)
                current = name
            } else if line == "}" {
                current = nil
            } else if let caller = current, line.contains("call "), let callee = calledName(line) {
                functions[caller]?.callees.append(callee)
            }
        }

        // Everything reachable from a C-named function through direct calls stays unsplit,
        // except from the task entries (`keel_entry_*`): they are where task code starts.
        var unsplit = Set<String>()
        var work = order.filter { !Symbolizer.isSwiftMangled($0) && !$0.hasPrefix(TaskTableGenerator.entryPrefix) }
        while let name = work.popLast() {
            guard functions[name] != nil, unsplit.insert(name).inserted else { continue }
            work.append(contentsOf: functions[name]!.callees)
        }
        if !splitStack { unsplit = Set(order) }
        let nosplitHere = Set(order).intersection(nosplit).subtracting(unsplit)

        // Each attribute group with "split-stack" gets a twin without it, for the unsplit functions.
        var twins: [String: String] = [:]
        var groups: [(name: String, body: String)] = []
        for line in lines where line.hasPrefix("attributes #") {
            let parts = line.dropFirst("attributes ".count).split(separator: " ", maxSplits: 2)
            guard parts.count == 3, line.contains("\"split-stack\"") else { continue }
            groups.append((String(parts[0]), String(parts[2])))
        }
        var nextGroup = lines.compactMap { line -> Int? in
            guard line.hasPrefix("attributes #") else { return nil }
            return Int(line.dropFirst("attributes #".count).prefix { $0.isNumber })
        }.max().map { $0 + 1 } ?? 0
        for group in groups {
            twins[group.name] = "#\(nextGroup)"
            lines.append("attributes #\(nextGroup) = " + group.body.replacingOccurrences(of: " \"split-stack\"", with: ""))
            nextGroup += 1
        }
        for name in unsplit.union(nosplitHere) {
            let number = functions[name]!.line
            lines[number] = replaceGroup(in: lines[number], twins)
        }
        return Result(text: lines.joined(separator: "\n"),
                      split: order.filter { !unsplit.contains($0) && !nosplitHere.contains($0) },
                      unsplit: order.filter { unsplit.contains($0) }, nosplit: order.filter { nosplitHere.contains($0) })
    }

    struct Function {
        var line: Int
        var callees: [String]
    }


    /// `define ... @name(` -> name (quotes removed).
    static func definedName(_ line: String) -> String? { symbol(after: line.range(of: " @")?.upperBound, in: line) }

    /// The callee of a direct `call`/`tail call`/`invoke`: the first `@symbol(` after "call ".
    static func calledName(_ line: String) -> String? {
        guard let call = line.range(of: "call ") else { return nil }
        guard let at = line.range(of: "@", range: call.upperBound..<line.endIndex) else { return nil }
        // An indirect call names a register (`call void %5()`): its first `@` is an argument.
        let between = line[call.upperBound..<at.lowerBound]
        if between.contains("%") { return nil }
        return symbol(after: at.upperBound, in: line)
    }

    static func symbol(after start: String.Index?, in line: String) -> String? {
        guard let start, start < line.endIndex else { return nil }
        if line[start] == "\"" {
            let rest = line[line.index(after: start)...]
            guard let end = rest.firstIndex(of: "\"") else { return nil }
            return String(rest[..<end])
        }
        let name = line[start...].prefix { $0.isLetter || $0.isNumber || "._$-".contains($0) }
        return name.isEmpty ? nil : String(name)
    }

    /// The function's attribute group reference (`#N` after the parameter list) -> its twin.
    static func replaceGroup(in line: String, _ twins: [String: String]) -> String {
        var words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        for index in words.indices.reversed() where words[index].hasPrefix("#") {
            if let twin = twins[words[index]] { words[index] = twin; break }
        }
        return words.joined(separator: " ")
    }
}
