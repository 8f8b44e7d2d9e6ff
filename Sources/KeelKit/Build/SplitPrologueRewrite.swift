// The Thumb-2 split-stack route's rewrite of the compiler's assembly: the limit load.
//
// LLVM emits the ARM split prologue only for Linux triples, and its Thumb-2 form
// (ARMFrameLowering::adjustForSegmentedStacks, `thumbv7m`/`thumbv8m.main-unknown-linux-gnueabi`)
// finds the limit through the TLS register, `mrc p15, #0, r4, c13, c0, #3; ldr r4, [r4, #4]`:
// a coprocessor the M-profile does not have (UNDEFINED). The application's module is compiled
// to assembly instead of an object, every prologue is rewritten to load the word
// `__STACK_LIMIT`, and the result is assembled. Small frames (SP compared as it is):
//
//   LLVM                                 after the rewrite
//   push {r4, r5}                        ldr.w ip, =__STACK_LIMIT   (literal after the function)
//   mrc  p15, #0, r4, c13, c0, #3        ldr.w ip, [ip]
//   ldr  r4, [r4, #4]                    cmp   ip, sp
//   mov  r5, sp                          bls   .Lkeel_checkedN
//   cmp  r4, r5                          push  {r4, r5}
//   bls  .LBBx                           mov r4, #frame ... bl __morestack; stub (unchanged)
//   mov r4, #frame ... stub            .LBBx: pop {r4, r5}        (where __morestack resumes)
// .LBBx: pop {r4, r5}                  .Lkeel_checkedN:           (where a passed check goes on)
//
// Four instructions when the check passes instead of seven: the hot path of every call is
// what this route is for. r12 (ip) is free at a function's entry (AAPCS: a veneer may
// clobber it; Swift passes nothing in it, and the rewrite refuses `nest`, its one use). The
// slow path pushes r4/r5 itself, so `__morestack` sees exactly what it sees under the Thumb-1
// prologue ([lr_f][r4][r5][arguments], the 8-byte stub before the body's `pop {r4, r5}`), and
// Port/armv6m/MoreStack.S serves both. The check is at the entry SP, not 8 bytes below it:
// Analysis/SplitPrologue.swift tells the two forms apart for the slack proof.
//
// Frames of 256 bytes and more (LLVM compares SP minus the frame, computed in r5 after the
// push) keep LLVM's shape; only the two TLS instructions become `ldr r4, =__STACK_LIMIT;
// ldr r4, [r4]`. They are rare and pay for a big frame anyway.
//
// The literal sits after the function (`.ltorg` after its end label, outside its symbol):
// `ldr.w` reaches 4095 bytes. A function that could be longer than that (counted generously:
// four bytes a line) loads the address with movw/movt instead, one instruction more.
//
// Anything not recognised fails the build: an `mrc p15` left in the code would be an
// UNDEFINED instruction at the first call.

import Foundation

public enum SplitPrologueRewrite {
    public struct Result: Sendable, Equatable {
        public var text: String
        /// Prologues rewritten to the scratch-register form (frames under 256 bytes).
        public var scratchForm: Int
        /// Prologues that kept LLVM's push-first shape (frames of 256 bytes and more).
        public var pushForm: Int
    }

    /// The symbol of the limit word (Firmware/Kernel/Segments/SegmentedStacks.swift).
    public static let limitSymbol = "__STACK_LIMIT"
    /// Functions whose literal could lie further than this from the prologue take movw/movt.
    static let literalReach = 4000

    public static func rewrite(_ assembly: String) throws(KeelError) -> Result {
        let lines = assembly.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var output: [String] = []
        output.reserveCapacity(lines.count + lines.count / 8)
        var scratch = 0, push = 0
        var poolPending = false
        var index = 0
        func fail(_ why: String, at line: Int) -> KeelError {
            .buildFailed(step: "rewrite the Thumb-2 split-stack prologues",
                         output: "\(why) at line \(line + 1) of the application's assembly: \(lines[line].trimmed)")
        }
        while index < lines.count {
            let line = lines[index]
            let words = instruction(line)
            if words.first == "mrc" {
                guard words == ["mrc", "p15,", "#0,", "r4,", "c13,", "c0,", "#3"] else {
                    throw fail("an mrc that is not the split-stack prologue's TLS read", at: index)
                }
                // The prologue from its `push {r4, r5}` to `cmp r4, r5`; LLVM's scheduler may
                // put `mov r5, sp` anywhere in it, so its instructions are compared as a set.
                guard let pushLine = output.lastIndex(where: { instruction($0) == ["push", "{r4,", "r5}"] }),
                      output.count - pushLine <= 8 else {
                    throw fail("the TLS read has no `push {r4, r5}` just before it", at: index)
                }
                var compare = index
                var after: [[String]] = []
                repeat {
                    guard let next = nextInstruction(lines, after: compare), next - index <= 8 else {
                        throw fail("no `cmp r4, r5` just after the TLS read", at: index)
                    }
                    compare = next
                    after.append(instruction(lines[next]))
                } while after.last != ["cmp", "r4,", "r5"]
                after.removeLast()
                let before = output[(pushLine + 1)...].map(instruction).filter { !$0.isEmpty }
                let limitLoad = ["ldr", "r4,", "[r4,", "#4]"], copySP = ["mov", "r5,", "sp"]
                guard after.contains(limitLoad) else {
                    throw fail("the TLS read is not followed by the limit load `ldr r4, [r4, #4]`", at: index)
                }
                let near = functionBytes(lines, from: index) <= literalReach
                if near { poolPending = true }
                let body = (before + after).filter { $0 != limitLoad && $0 != copySP }
                if body.isEmpty && (before + after).count == 2 {
                    // Small frame: push / mrc, ldr, mov r5, sp / cmp r4, r5 / bls L ... L: pop {r4, r5}.
                    guard let branch = nextInstruction(lines, after: compare), instruction(lines[branch]).count == 2,
                          instruction(lines[branch])[0] == "bls" else {
                        throw fail("the split-stack compare is not followed by `bls`", at: index)
                    }
                    let target = instruction(lines[branch])[1]
                    guard let label = lines.indices.dropFirst(branch).first(where: { lines[$0].hasPrefix(target + ":") }),
                          let pop = nextInstruction(lines, after: label), instruction(lines[pop]) == ["pop", "{r4,", "r5}"],
                          lines[branch..<label].contains(where: { instruction($0) == ["bl", "__morestack"] }) else {
                        throw fail("the split-stack prologue's slow path (`bl __morestack`, then \(target): pop {r4, r5}) is missing", at: index)
                    }
                    let checked = ".Lkeel_checked\(scratch)"
                    output.removeSubrange(pushLine...)
                    output += loadLimit(into: "ip", near: near)
                    output += ["\tcmp\tip, sp", "\tbls\t\(checked)", "\tpush\t{r4, r5}"]
                    output += lines[(branch + 1)...pop]
                    output.append(checked + ":")
                    scratch += 1
                    index = pop + 1
                    continue
                }
                // Large frame: r5 = SP minus the frame (`movw r4, #N; sub r5, r5, r4`) before the
                // TLS read. The two TLS instructions become the limit load where they stand.
                guard body.count == 2, body.contains(["sub", "r5,", "r5,", "r4"]) else {
                    throw fail("the split-stack prologue around the TLS read is neither the small- nor the large-frame form", at: index)
                }
                output += loadLimit(into: "r4", near: near).dropLast()
                for line in lines[(index + 1)...compare] {
                    output.append(instruction(line) == limitLoad ? "\tldr\tr4, [r4]" : line)
                }
                push += 1
                index = compare + 1
                continue
            }
            if words.contains("p15,") {
                throw fail("a coprocessor 15 access the rewrite does not know", at: index)
            }
            output.append(line)
            // The literal pool of the function whose prologue loads `=__STACK_LIMIT`: right after it.
            if poolPending && line.hasPrefix(".Lfunc_end") && line.hasSuffix(":") {
                output.append("\t.ltorg")
                poolPending = false
            }
            index += 1
        }
        if poolPending {
            throw .buildFailed(step: "rewrite the Thumb-2 split-stack prologues",
                               output: "the last rewritten function has no .Lfunc_end label to put its literal after")
        }
        return Result(text: output.joined(separator: "\n"), scratchForm: scratch, pushForm: push)
    }

    /// The rewrite uses r12 before the function's own code runs: an IR parameter passed in it
    /// (`nest`, LLVM's only use of r12 for arguments on ARM) would be lost.
    public static func requireFreeScratchRegister(ir: String) throws(KeelError) {
        if ir.contains(" nest ") || ir.contains(" nest,") || ir.contains(" nest)") {
            throw .buildFailed(step: "rewrite the Thumb-2 split-stack prologues",
                               output: "the application's IR passes a `nest` parameter in r12, which the prologue uses as scratch")
        }
    }

    /// `register` = the word at `__STACK_LIMIT`: a literal load when the literal is in reach.
    static func loadLimit(into register: String, near: Bool) -> [String] {
        let wide = register == "ip" ? ".w" : ""
        if near { return ["\tldr\(wide)\t\(register), =\(limitSymbol)", "\tldr\(wide)\t\(register), [\(register)]"] }
        return ["\tmovw\t\(register), :lower16:\(limitSymbol)", "\tmovt\t\(register), :upper16:\(limitSymbol)",
                "\tldr\(wide)\t\(register), [\(register)]"]
    }

    /// The instruction on `line` as words (mnemonic, operands), or [] for a label, directive or comment.
    static func instruction(_ line: String) -> [String] {
        guard line.hasPrefix("\t") else { return [] }
        let code = line.prefix { $0 != "@" }
        let words = code.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first, !first.hasPrefix("."), !first.hasSuffix(":") else { return [] }
        return words
    }

    /// The next line holding an instruction, if the function goes on (no other label between).
    static func nextInstruction(_ lines: [String], after index: Int) -> Int? {
        var next = index + 1
        while next < lines.count {
            if !instruction(lines[next]).isEmpty { return next }
            if lines[next].hasPrefix(".Lfunc_end") { return nil }
            next += 1
        }
        return nil
    }

    /// An upper bound on the bytes from `index` to the function's end label: four a line of
    /// code or data, and each alignment's full padding.
    static func functionBytes(_ lines: [String], from index: Int) -> Int {
        var bytes = 0
        for line in lines[index...] {
            if line.hasPrefix(".Lfunc_end") { break }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
            guard line.hasPrefix("\t"), let first = words.first, !first.hasPrefix("@") else { continue }
            switch first {
            case ".p2align": bytes += 1 << (Int(words.dropFirst().first ?? "") ?? 12)
            case ".zero", ".space": bytes += Int(words.dropFirst().first ?? "") ?? 4096
            case ".byte", ".short", ".hword", ".long", ".word", ".inst", ".inst.w": bytes += 4 * max(1, words.count - 1)
            default: if !first.hasPrefix(".") { bytes += 4 }
            }
        }
        return bytes
    }
}

private extension String {
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
