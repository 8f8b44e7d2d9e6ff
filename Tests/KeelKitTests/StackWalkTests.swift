// The backtrace walk on synthetic stack words: frame sizes, LR, a stacking fault, guesses,
// and the lines `keel run` prints from it.

@testable import KeelKit
import XCTest

final class StackWalkTests: XCTestCase {
    /// task (16-byte frame) calls middle (8 bytes) at 0x100c, middle calls leaf (no frame) at 0x110c;
    /// `keel_task_returned` is what a task's entry returns to.
    let code = CodeMap(functions: [
        .init(name: "task", start: 0x1000, end: 0x1100, frameBytes: 16, makesCalls: true),
        .init(name: "middle", start: 0x1100, end: 0x1200, frameBytes: 8, makesCalls: true),
        .init(name: "leaf", start: 0x1200, end: 0x1240, frameBytes: 0),
        .init(name: "keel_task_returned", start: 0x1300, end: 0x1310, frameBytes: 0),
    ], callReturns: [0x1010: 0x1100, 0x1110: 0x1200])

    let paint: UInt32 = 0xa5a5_a5a5
    let sp: UInt32 = 0x2000_0100

    /// An exception frame: r0-r3, r12, lr, pc, xPSR (Thumb bit, thread mode).
    func exceptionFrame(lr: UInt32, pc: UInt32) -> [UInt32] { [0, 1, 2, 3, 12, lr, pc, 0x0100_0000] }

    func testLeafUsesLinkRegisterThenFrameSizes() {
        // leaf faulted; middle's frame [r4, return into task]; task's frame ends with "task returned".
        let words = exceptionFrame(lr: 0x1111, pc: 0x1220) + [7, 0x1011] + [paint, paint, 0, 0x1301]
        let walk = StackWalk.walk(pc: 0x1220, evidence: StackWords(task: "t", sp: sp, from: sp, words: words), code: code)
        XCTAssertEqual(walk.frames.map(\.address), [0x1220, 0x1110, 0x1010])
        XCTAssertEqual(walk.frames.map(\.kind), [.faultingInstruction, .returnAddress, .returnAddress])
        XCTAssertFalse(walk.frames.contains(where: \.isGuess))
        XCTAssertEqual(walk.ending, .taskEntry)
    }

    func testCallerOfAFunctionThatCallsIsTheTopOfItsFrameNotAStaleLinkRegister() {
        // middle faulted with its frame built; LR still holds leaf's old return (into middle itself).
        let words = exceptionFrame(lr: 0x1111, pc: 0x1104) + [7, 0x1011] + [paint, paint, 0, 0x1301]
        let walk = StackWalk.walk(pc: 0x1104, evidence: StackWords(task: "t", sp: sp, from: sp, words: words), code: code)
        XCTAssertEqual(walk.frames.map(\.address), [0x1104, 0x1010])
        XCTAssertFalse(walk.frames.contains(where: \.isGuess))
        XCTAssertEqual(walk.ending, .taskEntry)
    }

    func testPaddedExceptionFrameIsSkipped() {
        // xPSR bit 9: the hardware aligned SP with one more word above the frame.
        var frame = exceptionFrame(lr: 0x1111, pc: 0x1104)
        frame[7] |= 1 << 9
        let words = frame + [0xdead_beef] + [7, 0x1011] + [paint, paint, 0, 0x1301]
        let walk = StackWalk.walk(pc: 0x1104, evidence: StackWords(task: "t", sp: sp, from: sp, words: words), code: code)
        XCTAssertEqual(walk.frames.map(\.address), [0x1104, 0x1010])
        XCTAssertEqual(walk.ending, .taskEntry)
    }

    func testStackingFaultStartsFromTheLowestReturnAddressAsAGuess() {
        // No PC: the words start at the stack's bottom with middle's frame (it was calling leaf).
        let words = [paint, 0x1011] + [paint, paint, 0, 0x1301]
        let walk = StackWalk.walk(pc: 0, evidence: StackWords(task: "t", sp: sp - 32, from: sp, words: words), code: code)
        XCTAssertEqual(walk.frames.map(\.address), [0x1100, 0x1010])
        XCTAssertEqual(walk.frames.map(\.kind), [.calledFunction, .returnAddress])
        XCTAssertTrue(walk.frames.allSatisfy(\.isGuess))
        XCTAssertEqual(walk.frames[1].slot, sp + 4)
        XCTAssertEqual(walk.ending, .taskEntry)
    }

    func testAFrameSizeThatDoesNotFitIsScannedAndMarkedAGuess() {
        // middle's frame is really 12 bytes, not the 8 the map says: its return address is one word up.
        let words = exceptionFrame(lr: 0x1111, pc: 0x1104) + [7, 8, 0x1011] + [paint, paint, 0, 0x1301]
        let walk = StackWalk.walk(pc: 0x1104, evidence: StackWords(task: "t", sp: sp, from: sp, words: words), code: code)
        XCTAssertEqual(walk.frames.map(\.address), [0x1104, 0x1010])
        XCTAssertEqual(walk.frames.map(\.isGuess), [false, true])
    }

    func testWalkSaysWhenTheWordsRunOut() {
        let words = exceptionFrame(lr: 0x1111, pc: 0x1104) + [7, 0x1011] + [paint]
        let walk = StackWalk.walk(pc: 0x1104, evidence: StackWords(task: "t", sp: sp, from: sp, words: words), code: code)
        XCTAssertEqual(walk.frames.map(\.address), [0x1104, 0x1010])
        XCTAssertEqual(walk.ending, .endOfWords)
    }

    func testFrameAtSPIsUsedOnlyWhenItLooksLikeOne() {
        let real = exceptionFrame(lr: 0x1111, pc: 0x1104) + [7, 0x1011] + [paint, paint, 0, 0x1301]
        let guessed = StackWalk.walk(pc: 0, evidence: StackWords(task: "t", sp: sp, from: sp, words: real), code: code, frameMayBeAtSP: true)
        XCTAssertEqual(guessed.frames.map(\.address), [0x1104, 0x1010])
        XCTAssertEqual(guessed.frames.map(\.isGuess), [true, false])
        // Paint is no xPSR (its exception number is not 0): no PC is made up from it.
        let painted = [UInt32](repeating: paint, count: 8) + [7, 0x1011] + [paint, paint, 0, 0x1301]
        let scanned = StackWalk.walk(pc: 0, evidence: StackWords(task: "t", sp: sp, from: sp, words: painted), code: code, frameMayBeAtSP: true)
        XCTAssertEqual(scanned.frames.first?.kind, .calledFunction)
    }

    func testNoReturnAddressGivesAnEmptyWalk() {
        let walk = StackWalk.walk(pc: 0, evidence: StackWords(task: "t", sp: sp, from: sp, words: [paint, paint]), code: code)
        XCTAssertEqual(walk.frames, [])
        XCTAssertEqual(walk.ending, .lost)
    }

    func testStackWordsRecordIsParsed() {
        XCTAssertEqual(ConsoleRecord.parse("keel:stack-words task=deep sp=200001d8 from=20000200 words=0000a5a5,00001011"),
                       .stackWords(StackWords(task: "deep", sp: 0x2000_01d8, from: 0x2000_0200, words: [0xa5a5, 0x1011])))
        XCTAssertEqual(ConsoleRecord.parse("keel:stack-words task=deep sp=0 from=0 words=zz"),
                       .output("keel:stack-words task=deep sp=0 from=0 words=zz"), "a damaged line stays text")
    }

    func fault(pc: UInt32) -> FaultRecord {
        FaultRecord(task: "worker", kind: "usage-fault", technique: "none", pc: pc, sp: 0x2000_0780, limit: 0x2000_0000,
                    cfsr: 0x0001_0000, hfsr: 0, mmfar: 0, bfar: 0, action: "kill", function: "average(_:) + 0x14")
    }

    func testTrapIsDescribedByReasonFileAndLine() {
        var trap = fault(pc: 0x7c68)
        trap.location = SourceLocation(frames: [SourceFrame(function: "subscript.get", file: nil, line: nil),
                                                SourceFrame(function: "average(_:)", file: "Worker.swift", line: 42)],
                                       trapReason: "Division by zero", trapLine: "total / count")
        XCTAssertEqual(RunReport.describe(trap),
                       "FAULT task 'worker': Swift runtime failure: Division by zero at Worker.swift:42 in average(_:); pc 0x00007c68, sp 0x20000780, stack limit 0x20000000, CFSR 0x00010000 (UNDEFINSTR); task stopped, others continue")
        XCTAssertEqual(RunReport.backtraceLines(trap), ["  Worker.swift:42: total / count"])
    }

    func testPCOutsideCodeSaysSo() {
        var stray = fault(pc: 0x2000_0fe0)
        stray.pcOutsideCode = true
        stray.function = nil
        XCTAssertTrue(RunReport.describe(stray).contains(
            "pc 0x20000fe0 (not code: a jump through a bad pointer or an overwritten return address), sp"), RunReport.describe(stray))
    }

    func testBacktraceLinesFoldARecursionAndSayWhereTheWalkEnded() {
        var deep = fault(pc: 0x1104)
        func frame(_ address: UInt32, _ line: Int, kind: BacktraceFrame.Kind = .returnAddress, guess: Bool = false) -> DecodedFrame {
            DecodedFrame(frame: BacktraceFrame(address: address, kind: kind, isGuess: guess),
                         location: SourceLocation(frames: [SourceFrame(function: "descend(_:)", file: "Overflow.swift", line: line)]),
                         symbol: nil)
        }
        deep.backtrace = [frame(0x1104, 56, kind: .faultingInstruction)] + (0..<4).map { _ in frame(0x1110, 60) }
        deep.backtraceEnding = .endOfWords
        deep.stackWordBytes = 256
        XCTAssertEqual(RunReport.backtraceLines(deep), [
            "  backtrace:",
            "  #0 descend(_:) at Overflow.swift:56",
            "  #1..#4 descend(_:) at Overflow.swift:60 (4 frames alike: a recursion)",
            "  … (the 256 bytes of stack the kernel printed end here)",
        ])
        deep.backtrace[1].frame.isGuess = true
        XCTAssertEqual(RunReport.backtraceLines(deep)[0],
                       "  backtrace (frames marked \"guess\" were found by scanning the stack, not by frame sizes):")
        XCTAssertEqual(RunReport.backtraceLines(deep)[2], "  #1 descend(_:) at Overflow.swift:60 (guess)")
    }
}
