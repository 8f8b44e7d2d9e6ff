// Was another task harmed by an overflow? A pure judgement on evidence, shared with the host.
//
// An overflow's culprit may have written [lowest, top) below its stack (`WrittenRange`); part
// of it is proven written (the exception frame the hardware pushed there, the words a red zone
// check found changed). What actually reached memory is narrower still: a write the MPU
// refused wrote nothing (`MPUPermission`). A neighbour depends only on its live stack (from
// its saved stack pointer up: its frames and the exception frame of its saved context; the
// callee-saved registers are in its control block, not on the stack). So:
//
//   nothing writable reached its stack or guard      untouched: not told, not stopped
//   writable bytes only below its live stack         spared: those bytes are dead; the kernel
//                                                     repaints them (its red zone and paint
//                                                     must not blame it later) and says so
//   writable bytes in its live stack                  harmed: stopped with the true cause;
//                                                     "proven" when proven-written bytes are
//                                                     there, "possible" when only the range
//                                                     says they may have been (ambiguous:
//                                                     the kernel errs towards stopping)

/// What an overflow below a stack may have written, and what it certainly wrote.
@_spi(Contract) public struct WrittenRange: Sendable, Equatable {
    /// [lowest, top): every byte the overflow may have written.
    public var lowest: UInt32
    public var top: UInt32
    /// [provenLowest, provenTop): bytes certainly written (empty when provenLowest >= provenTop).
    public var provenLowest: UInt32
    public var provenTop: UInt32

    @_spi(Contract) public init(lowest: UInt32, top: UInt32, provenLowest: UInt32 = 0, provenTop: UInt32 = 0) {
        self.lowest = lowest; self.top = top; self.provenLowest = provenLowest; self.provenTop = provenTop
    }

    public var isEmpty: Bool { lowest >= top }
}

/// One other task's stack as containment sees it.
@_spi(Contract) public struct StackSpan: Sendable, Equatable {
    /// The bottom of its MPU guard (its stack's bottom when it has none).
    public var guardBottom: UInt32
    public var bottom: UInt32
    public var top: UInt32
    /// Its saved stack pointer: [liveBottom, top) is what it depends on. `top` for a task that
    /// will not run again (exited, killed): nothing of it is live.
    public var liveBottom: UInt32

    @_spi(Contract) public init(guardBottom: UInt32, bottom: UInt32, top: UInt32, liveBottom: UInt32) {
        self.guardBottom = guardBottom; self.bottom = bottom; self.top = top; self.liveBottom = liveBottom
    }
}

/// The judgement on one stack.
@_spi(Contract) public enum StackHarm: Sendable, Equatable {
    case untouched
    /// Only dead bytes [lowest, top) below the live stack were in reach: `bytes` of them writable.
    case spared(bytes: UInt32, lowest: UInt32, top: UInt32)
    /// `bytes` of the live stack were in reach; `proven` when some were certainly written.
    case harmed(bytes: UInt32, proven: Bool)

    /// Judges `span` against `written`; `permits` says whether a write to an address could pass.
    public static func judge(_ span: StackSpan, written: WrittenRange, permits: (UInt32) -> Bool) -> StackHarm {
        let live = overlap(written.lowest, written.top, max(span.liveBottom, span.guardBottom), span.top)
        if let live {
            let bytes = MPUPermission.writableBytes(from: live.lower, to: live.upper, permits)
            if bytes > 0 {
                let proven = overlap(written.provenLowest, written.provenTop, live.lower, live.upper)
                    .map { MPUPermission.writableBytes(from: $0.lower, to: $0.upper, permits) > 0 } ?? false
                return .harmed(bytes: bytes, proven: proven)
            }
        }
        if let dead = overlap(written.lowest, written.top, span.guardBottom, min(span.liveBottom, span.top)) {
            let bytes = MPUPermission.writableBytes(from: dead.lower, to: dead.upper, permits)
            if bytes > 0 { return .spared(bytes: bytes, lowest: dead.lower, top: dead.upper) }
        }
        return .untouched
    }

    /// [max(a0, b0), min(a1, b1)) when it is not empty.
    static func overlap(_ a0: UInt32, _ a1: UInt32, _ b0: UInt32, _ b1: UInt32) -> (lower: UInt32, upper: UInt32)? {
        let lower = max(a0, b0), upper = min(a1, b1)
        return lower < upper ? (lower, upper) : nil
    }
}
