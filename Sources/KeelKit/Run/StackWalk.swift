// A backtrace from a faulting task's stack words, walked with each function's frame size.
//
// Why frame sizes and not unwind tables: the image already has every compiled function's
// frame in `.stack_sizes`, and the analysis reads the others' pushes (CallGraph.Frame): the
// same figures the worst-case analysis adds up. A Thumb function that calls pushes LR first
// (`push {..., lr}`), so its return address is the top word of its frame: from SP inside a
// function, the caller's return address is at SP + frame - 4, and the caller's SP is the word
// after it. Every return address is checked against the image: odd (Thumb), right after a BL
// or BLX. Where the expected word is not one (a function stopped in its prologue, a frame of
// unknown size, a PC that was never stacked), the walk scans up for the next word that is,
// and marks that frame as a guess.

/// The words the kernel printed from a faulting task's stack (`keel:stack-words`).
public struct StackWords: Sendable, Equatable, Codable {
    public var task: String
    /// The task's SP at the fault (the exception frame, when one was pushed).
    public var sp: UInt32
    /// The address of the first word.
    public var from: UInt32
    public var words: [UInt32]

    public init(task: String, sp: UInt32, from: UInt32, words: [UInt32]) {
        self.task = task; self.sp = sp; self.from = from; self.words = words
    }

    /// One past the last word.
    public var end: UInt32 { from &+ UInt32(words.count) &* 4 }

    public func word(at address: UInt32) -> UInt32? {
        guard address >= from, address < end, address & 3 == 0 else { return nil }
        return words[Int((address - from) / 4)]
    }
}

/// What the walk needs to know of the image's code.
public struct CodeMap: Sendable {
    public struct Function: Sendable, Equatable {
        public var name: String
        public var start: UInt32
        public var end: UInt32
        /// Its whole frame in bytes (pushes included); nil when unknown.
        public var frameBytes: UInt32?
        /// It calls: it pushed LR on entry, so LR no longer holds its return address.
        public var makesCalls: Bool

        public init(name: String, start: UInt32, end: UInt32, frameBytes: UInt32?, makesCalls: Bool = false) {
            self.name = name; self.start = start; self.end = end; self.frameBytes = frameBytes; self.makesCalls = makesCalls
        }
    }

    /// Sorted by start address.
    public private(set) var functions: [Function]
    /// The address right after each call instruction (Thumb bit clear), and the function the
    /// call goes to when it is a direct `bl` (nil for a `blx` through a register).
    public private(set) var callReturns: [UInt32: UInt32?]

    public init(functions: [Function], callReturns: [UInt32: UInt32?]) {
        self.functions = functions.sorted { $0.start < $1.start }
        self.callReturns = callReturns
    }

    /// The image's functions and calls, from its call graph.
    public init(graph: CallGraph) {
        var returns: [UInt32: UInt32?] = [:]
        // A `.cold.N` part is code its function moved out of line and branches to: it runs in
        // that function's frame, so its frame is the function's.
        var byName: [String: CallGraph.Function] = [:]
        for function in graph.functions { byName[function.name] = function }
        func owner(_ function: CallGraph.Function) -> CallGraph.Function {
            guard let cold = function.name.range(of: ".cold.") else { return function }
            return byName[String(function.name[..<cold.lowerBound])] ?? function
        }
        for function in graph.functions {
            for call in function.calls where !call.isTail { returns[call.site &+ 4] = graph.functions[call.callee].address }
            for jump in function.registerJumps where jump.isCall { returns[jump.site &+ 2] = .some(nil) }
        }
        self.init(functions: graph.functions.map {
            Function(name: $0.name, start: $0.address, end: $0.address &+ $0.size, frameBytes: owner($0).frame.bytes,
                     makesCalls: !owner($0).calls.isEmpty || owner($0).registerJumps.contains(where: \.isCall))
        }, callReturns: returns)
    }

    public func function(containing address: UInt32) -> Function? {
        let address = address & ~1
        var low = 0, high = functions.count
        while low < high {
            let middle = (low + high) / 2
            if functions[middle].start <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0, address < functions[low - 1].end else { return nil }
        return functions[low - 1]
    }

    /// A Thumb return address: odd, right after a call instruction in the image.
    public func isReturnAddress(_ value: UInt32) -> Bool {
        value & 1 == 1 && callReturns[value & ~1] != nil
    }

    /// A function's first instruction as a Thumb address: the return address a task's entry
    /// was started with (the kernel's "task returned"), where a walk ends.
    public func isFunctionStart(_ value: UInt32) -> Bool {
        value & 1 == 1 && function(containing: value)?.start == value & ~1
    }

    /// The function the call before `returnAddress` went to, when it was a direct call.
    public func callee(before returnAddress: UInt32) -> UInt32? {
        callReturns[returnAddress & ~1] ?? nil
    }
}

public struct BacktraceFrame: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// The stacked PC: the instruction that faulted.
        case faultingInstruction = "pc"
        /// A return address: the frame is the caller, at the call.
        case returnAddress = "return"
        /// The PC was not stacked: the function the innermost call found went to.
        case calledFunction = "called"
    }

    /// The PC, a return address or a function's start (Thumb bit clear).
    public var address: UInt32
    public var kind: Kind
    /// Found by scanning for a return address, not where the frame sizes put it.
    public var isGuess: Bool
    /// Where on the stack a return address was found.
    public var slot: UInt32?

    public init(address: UInt32, kind: Kind, isGuess: Bool, slot: UInt32? = nil) {
        self.address = address; self.kind = kind; self.isGuess = isGuess; self.slot = slot
    }

    /// The address to look the source line up at: inside the call instruction for a return address.
    public var lookupAddress: UInt32 { kind == .returnAddress ? address &- 2 : address }
}

/// The frames of a walk, and why it ended.
public struct Backtrace: Sendable, Equatable, Codable {
    public enum Ending: String, Sendable, Codable {
        /// At the task's entry: its return address is the kernel's, not a call's.
        case taskEntry = "task-entry"
        /// The printed words ran out before the entry was reached.
        case endOfWords = "end-of-words"
        /// No return address above the last frame: the rest of the stack is not a chain of calls.
        case lost
        /// `StackWalk.maximumFrames` frames shown.
        case frameLimit = "frame-limit"
    }

    public var frames: [BacktraceFrame]
    public var ending: Ending

    public init(frames: [BacktraceFrame], ending: Ending) { self.frames = frames; self.ending = ending }
}

public enum StackWalk {
    /// Frames at most: a runaway recursion shows its first frames, not hundreds.
    public static let maximumFrames = 24

    /// The faulting task's calls, innermost first. `pc` 0: the kernel reported no PC (the
    /// hardware pushed no frame, or the kernel did not trust the one below the stack); with
    /// `frameMayBeAtSP`, words at SP that look like an exception frame from thread mode (a
    /// PC in code, an xPSR with the Thumb bit and no exception number) are used as one, as a guess.
    public static func walk(pc: UInt32, evidence: StackWords, code: CodeMap, frameMayBeAtSP: Bool = false) -> Backtrace {
        let sp = evidence.sp
        var frames: [BacktraceFrame] = []
        var current: CodeMap.Function?
        // The SPs the current function may have now (more than one while its frame is unsure).
        var cursors: [UInt32]
        var stacked: (pc: UInt32, guess: Bool)? = nil
        // LR when it gave the caller: the copy a partly built frame pushed is not another frame.
        var linkRegisterCopy: UInt32? = nil
        if pc != 0, evidence.word(at: sp &+ 24) == pc {
            stacked = (pc, false)
        } else if pc == 0, frameMayBeAtSP, let value = evidence.word(at: sp &+ 24), value & 1 == 0,
                  code.function(containing: value) != nil,
                  let status = evidence.word(at: sp &+ 28), status & 0x0700_01FF == 0x0100_0000 {
            stacked = (value, true)
        }
        if let (pc, guess) = stacked {
            frames.append(BacktraceFrame(address: pc & ~1, kind: .faultingInstruction, isGuess: guess))
            current = code.function(containing: pc)
            // The exception frame: r0-r3, r12, lr, pc, xPSR, and a padding word when xPSR bit 9 says so.
            let statusRegister = evidence.word(at: sp &+ 28) ?? 0
            let above = sp &+ 32 &+ (statusRegister & (1 << 9) != 0 ? 4 : 0)
            let linkRegister = evidence.word(at: sp &+ 20) ?? 0
            let bytes = current?.frameBytes ?? 0
            let top = evidence.word(at: above &+ bytes &- 4) ?? 0
            if bytes >= 4 && (code.isReturnAddress(top) || code.isFunctionStart(top)) {
                cursors = [above]
            } else if code.isReturnAddress(linkRegister)
                        && (current?.makesCalls != true || code.callee(before: linkRegister) == current?.start) {
                // A leaf that keeps its return address in LR, or a function stopped in its
                // prologue (a limit register refuses its SP move; LR's call went to it): the
                // caller is LR, and the frame is whole, partly pushed, or not there yet. A PC in
                // no function (a jump through a bad pointer) leaves LR as a likely caller only.
                frames.append(BacktraceFrame(address: linkRegister & ~1, kind: .returnAddress, isGuess: current == nil))
                linkRegisterCopy = linkRegister
                current = code.function(containing: linkRegister)
                cursors = bytes > 0 ? [above &+ bytes, above] : [above]
            } else {
                cursors = [above]
            }
        } else {
            // No PC: the lowest return address on the stack names the innermost caller, and
            // its call instruction the function that was being entered or running.
            guard let (found, slot) = scan(from: max(evidence.from, sp & ~3), evidence, code) else {
                return Backtrace(frames: [], ending: .lost)
            }
            if let callee = code.callee(before: found) {
                frames.append(BacktraceFrame(address: callee, kind: .calledFunction, isGuess: true))
            }
            frames.append(BacktraceFrame(address: found & ~1, kind: .returnAddress, isGuess: true, slot: slot))
            current = code.function(containing: found)
            cursors = [slot &+ 4]
        }
        while true {
            guard frames.count < maximumFrames else { return Backtrace(frames: frames, ending: .frameLimit) }
            guard let function = current, let lowest = cursors.min() else { return Backtrace(frames: frames, ending: .lost) }
            guard lowest < evidence.end else { return Backtrace(frames: frames, ending: .endOfWords) }
            var next: (value: UInt32, slot: UInt32, guess: Bool)? = nil
            if let bytes = function.frameBytes, bytes >= 4 {
                for cursor in cursors {
                    guard let value = evidence.word(at: cursor &+ bytes &- 4) else { continue }
                    if code.isFunctionStart(value) { return Backtrace(frames: frames, ending: .taskEntry) }  // its caller is the kernel
                    if code.isReturnAddress(value) {
                        next = (value, cursor &+ bytes &- 4, false)
                        break
                    }
                }
            }
            if next == nil, let (value, slot) = scan(from: lowest, evidence, code) { next = (value, slot, true) }
            if let copy = linkRegisterCopy, next?.guess == true, next?.value == copy, let slot = next?.slot {
                // The pushed copy of LR: the function's frame ends here, and its caller's starts.
                linkRegisterCopy = nil
                cursors = [slot &+ 4]
                continue
            }
            linkRegisterCopy = nil
            guard let next else {
                // Nothing above that is a return address: the words ran out, or the chain did.
                let needed = lowest &+ (function.frameBytes ?? 0)
                return Backtrace(frames: frames, ending: needed > evidence.end ? .endOfWords : .lost)
            }
            frames.append(BacktraceFrame(address: next.value & ~1, kind: .returnAddress, isGuess: next.guess, slot: next.slot))
            current = code.function(containing: next.value)
            cursors = [next.slot &+ 4]
        }
    }

    /// The first word from `start` up that is a return address, and where it is.
    static func scan(from start: UInt32, _ evidence: StackWords, _ code: CodeMap) -> (UInt32, UInt32)? {
        var address = start & ~3
        while address < evidence.end {
            if let value = evidence.word(at: address), code.isReturnAddress(value) { return (value, address) }
            address &+= 4
        }
        return nil
    }
}
