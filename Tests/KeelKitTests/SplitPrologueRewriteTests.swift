// The Thumb-2 split route's assembly rewrite (SplitPrologueRewrite) and the analysis's
// recognition of the prologue it makes (SplitPrologue), on text in the shape clang emits
// for thumbv7m-unknown-linux-gnueabi -fsplit-stack.

@testable import KeelKit
import XCTest

final class SplitPrologueRewriteTests: XCTestCase {
    /// A small frame as LLVM emits it; its scheduler put `mov r5, sp` between the TLS read and the load.
    let small = """
    $e3App3fibys6UInt32VADF:                @ @"$e3App3fibys6UInt32VADF"
    .Lfunc_begin4:
    \t.fnstart
    @ %bb.0:
    \tpush\t{r4, r5}
    \tmrc\tp15, #0, r4, c13, c0, #3
    \tmov\tr5, sp
    \tldr\tr4, [r4, #4]
    \tcmp\tr4, r5
    \tbls\t.LBB4_2
    @ %bb.1:
    \tmov\tr4, #16
    \tmov\tr5, #0
    \tpush\t{lr}
    \tbl\t__morestack
    \tldr\tlr, [sp], #4
    \tpop\t{r4, r5}
    \tbx\tlr
    .LBB4_2:
    \tpop\t{r4, r5}
    \t.save\t{r4, r5, r7, lr}
    \tpush\t{r4, r5, r7, lr}
    \tadds\tr0, r4, r5
    \tpop\t{r4, r5, r7, pc}
    .Lfunc_end4:
    \t.size\t$e3App3fibys6UInt32VADF, .Lfunc_end4-$e3App3fibys6UInt32VADF
    \t.fnend
    """

    /// A frame of 256 bytes or more: SP minus the frame is computed before the TLS read.
    let large = """
    big:
    \tpush\t{r4, r5}
    \tmov\tr5, sp
    \tmovw\tr4, #280
    \tsub\tr5, r5, r4
    \tmrc\tp15, #0, r4, c13, c0, #3
    \tldr\tr4, [r4, #4]
    \tcmp\tr4, r5
    \tbls\t.LBB9_2
    \tmovw\tr4, #280
    \tmov\tr5, #0
    \tpush\t{lr}
    \tbl\t__morestack
    \tldr\tlr, [sp], #4
    \tpop\t{r4, r5}
    \tbx\tlr
    .LBB9_2:
    \tpop\t{r4, r5}
    \tbx\tlr
    .Lfunc_end9:
    """

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    func testSmallFrameChecksWithTheScratchRegisterAndPushesOnlyOnTheSlowPath() throws {
        let result = try SplitPrologueRewrite.rewrite(small)
        XCTAssertEqual(result.scratchForm, 1)
        XCTAssertEqual(result.pushForm, 0)
        let code = lines(result.text)
        let start = try XCTUnwrap(code.firstIndex(of: "@ %bb.0:"))
        XCTAssertEqual(Array(code[(start + 1)...(start + 14)]), [
            "\tldr.w\tip, =__STACK_LIMIT", "\tldr.w\tip, [ip]", "\tcmp\tip, sp", "\tbls\t.Lkeel_checked0",
            "\tpush\t{r4, r5}", "@ %bb.1:", "\tmov\tr4, #16", "\tmov\tr5, #0", "\tpush\t{lr}", "\tbl\t__morestack",
            "\tldr\tlr, [sp], #4", "\tpop\t{r4, r5}", "\tbx\tlr", ".LBB4_2:"])
        // __morestack resumes at the stub + 8, the body's `pop {r4, r5}`; a passed check skips it.
        XCTAssertEqual(code[start + 15], "\tpop\t{r4, r5}")
        XCTAssertEqual(code[start + 16], ".Lkeel_checked0:")
        // The literal goes right after the function, outside its symbol.
        let end = try XCTUnwrap(code.firstIndex(of: ".Lfunc_end4:"))
        XCTAssertEqual(code[end + 1], "\t.ltorg")
        XCTAssertFalse(result.text.contains("mrc"))
    }

    func testLargeFrameKeepsLLVMsShapeWithTheLimitLoadedInPlace() throws {
        let result = try SplitPrologueRewrite.rewrite(large)
        XCTAssertEqual(result.pushForm, 1)
        XCTAssertEqual(Array(lines(result.text)[1...7]), [
            "\tpush\t{r4, r5}", "\tmov\tr5, sp", "\tmovw\tr4, #280", "\tsub\tr5, r5, r4",
            "\tldr\tr4, =__STACK_LIMIT", "\tldr\tr4, [r4]", "\tcmp\tr4, r5"])
    }

    func testAFunctionTooLongForTheLiteralLoadsTheAddressWithMovwMovt() throws {
        let padded = small.replacingOccurrences(of: "\tadds\tr0, r4, r5", with: Array(repeating: "\tadds\tr0, r4, r5", count: 1100).joined(separator: "\n"))
        let result = try SplitPrologueRewrite.rewrite(padded)
        XCTAssertTrue(result.text.contains("\tmovw\tip, :lower16:__STACK_LIMIT\n\tmovt\tip, :upper16:__STACK_LIMIT\n\tldr.w\tip, [ip]\n"))
        XCTAssertFalse(result.text.contains(".ltorg"))
    }

    func testWhatItDoesNotRecogniseFailsTheBuild() {
        // Another coprocessor read, a TLS read without the limit load, an unknown prologue shape.
        for broken in [small.replacingOccurrences(of: "c13, c0, #3", with: "c13, c0, #2"),
                       small.replacingOccurrences(of: "\tldr\tr4, [r4, #4]", with: "\tldr\tr4, [r4, #8]"),
                       small.replacingOccurrences(of: "\tmov\tr5, sp\n", with: "\tmov\tr5, sp\n\tadds\tr5, #1\n"),
                       small.replacingOccurrences(of: "\tbl\t__morestack", with: "\tbl\tsomething"),
                       "f:\n\tmcr\tp15, #0, r0, c7, c5, #0\n.Lfunc_end0:"] {
            XCTAssertThrowsError(try SplitPrologueRewrite.rewrite(broken), broken)
        }
        XCTAssertThrowsError(try SplitPrologueRewrite.requireFreeScratchRegister(ir: "define void @f(ptr nest %0) {"))
        XCTAssertNoThrow(try SplitPrologueRewrite.requireFreeScratchRegister(ir: "define void @honest(ptr %0) {"))
    }

    func testTheSplitTripleIsTheBoardsOwnArchitecture() throws {
        XCTAssertEqual(SplitStackIR.triple(for: try BoardCatalog.board(named: "mps2-an385")), "thumbv7m-unknown-linux-gnueabi")
        XCTAssertEqual(SplitStackIR.triple(for: try BoardCatalog.board(named: "mps2-an505")), "thumbv8m.main-unknown-linux-gnueabi")
    }

    // MARK: The analysis's recognition (encodings from llvm-objdump of linked images)

    func testTheAnalysisTellsThePrologueFormsApart() {
        // push {r4, r5}; ldr r4, [pc, #..]; ldr r4, [r4]: Thumb-1 (and the Thumb-2 large frame).
        XCTAssertEqual(SplitPrologue.recognise([0xB430, 0x4C92, 0x6824]), .pushFirst)
        // ldr.w ip, [pc, #0x9c]; ldr.w ip, [ip]; cmp ip, sp; bls
        XCTAssertEqual(SplitPrologue.recognise([0xF8DF, 0xC09C, 0xF8DC, 0xC000, 0x45EC, 0xD90C]), .scratch)
        // movw ip, #0; movt ip, #0; ldr.w ip, [ip]; cmp ip, sp
        XCTAssertEqual(SplitPrologue.recognise([0xF240, 0x0C00, 0xF2C0, 0x0C00, 0xF8DC, 0xC000, 0x45EC]), .scratch)
        XCTAssertEqual(SplitPrologue.scratch.comparedBelowEntry, 0)
        XCTAssertEqual(SplitPrologue.pushFirst.comparedBelowEntry, 8)
        // push {r4, r5, r7, lr} (an ordinary prologue); a literal load into r4; a cut-off scratch form.
        XCTAssertNil(SplitPrologue.recognise([0xB5B0]))
        XCTAssertNil(SplitPrologue.recognise([0xF8DF, 0x409C, 0xF8DC, 0xC000, 0x45EC]))
        XCTAssertNil(SplitPrologue.recognise([0xF8DF, 0xC09C, 0xF8DC, 0xC000]))
    }
}
