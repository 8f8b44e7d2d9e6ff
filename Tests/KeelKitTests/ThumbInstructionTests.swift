// The Thumb decoder against encodings assembled by llvm-mc (ARMv7-M ARM A5.2/A5.3).

import KeelKit
import XCTest

final class ThumbInstructionTests: XCTestCase {
    func decode(_ first: UInt16, _ second: UInt16? = nil, at address: UInt32 = 0x1000) -> ThumbInstruction {
        ThumbInstruction.decode(first, second, at: address).0
    }

    func testCallsAndBranches() {
        // 2e28: f7ff ffde  bl 0x2de8 (a recursion in the demo image)
        XCTAssertEqual(decode(0xF7FF, 0xFFDE, at: 0x2E28), .call(target: 0x2DE8))
        // 4ddc: f000 b80c  b.w 0x4df8
        XCTAssertEqual(decode(0xF000, 0xB80C, at: 0x4DDC), .branch(target: 0x4DF8, conditional: false))
        // 2e24: d807  bhi 0x2e36
        XCTAssertEqual(decode(0xD807, at: 0x2E24), .branch(target: 0x2E36, conditional: true))
        // e7fe: b . (branch to itself)
        XCTAssertEqual(decode(0xE7FE, at: 0x100), .branch(target: 0x100, conditional: false))
        // 4dc8: b953  cbnz r3, 0x4de0
        XCTAssertEqual(decode(0xB953, at: 0x4DC8), .compareBranch(target: 0x4DE0))
        XCTAssertEqual(decode(0x4780), .indirectCall(register: 0))       // blx r0
        XCTAssertEqual(decode(0x4700), .indirectBranch(register: 0))     // bx r0
        XCTAssertEqual(decode(0x4770), .functionReturn)                  // bx lr
        XCTAssertEqual(decode(0x4687), .indirectBranch(register: 0))     // mov pc, r0
        XCTAssertEqual(decode(0xE8DF, 0xF000), .jumpTable)               // tbb [pc, r0]
        XCTAssertEqual(decode(0xDF00), .supervisorCall)                  // svc #0
        XCTAssertEqual(decode(0xF3BF, 0x8F4F), .other)                   // dsb sy (a B<c>.W lookalike, cond 1111)
    }

    func testStackMoves() {
        XCTAssertEqual(decode(0xB510), .stackDown(bytes: 8))             // push {r4, lr}
        XCTAssertEqual(decode(0xB090), .stackDown(bytes: 64))            // sub sp, #0x40
        XCTAssertEqual(decode(0xB010), .stackUp(bytes: 64))              // add sp, #0x40
        XCTAssertEqual(decode(0xBD10), .functionReturn)                  // pop {r4, pc}
        XCTAssertEqual(decode(0xBC30), .stackUp(bytes: 8))               // pop {r4, r5}
        XCTAssertEqual(decode(0xE92D, 0x4FF0), .stackDown(bytes: 36))    // push.w {r4-r11, lr}
        XCTAssertEqual(decode(0xE8BD, 0x8FF0), .functionReturn)          // pop.w {r4-r11, pc}
        XCTAssertEqual(decode(0xF84D, 0x4D04), .stackDown(bytes: 4))     // str r4, [sp, #-4]!
        XCTAssertEqual(decode(0xF85D, 0xFB04), .functionReturn)          // ldr pc, [sp], #4
        XCTAssertEqual(decode(0xE96D, 0xCE04), .stackDown(bytes: 16))    // strd r12, lr, [sp, #-16]! (libgcc)
        XCTAssertEqual(decode(0xF5AD, 0x7D00), .stackDown(bytes: 512))   // sub.w sp, sp, #512
        XCTAssertEqual(decode(0xF2AD, 0x4D04), .stackDown(bytes: 1028))  // subw sp, sp, #1028
        XCTAssertEqual(decode(0x4685), .stackFromRegister)               // mov sp, r0
        XCTAssertEqual(decode(0xF1AD, 0x0C08), .other)                   // sub.w r12, sp, #8 (SP only read)
    }

    func testMoveHalves() {
        XCTAssertEqual(decode(0xF64E, 0x5104), .moveHalf(register: 1, value: 0xED04, top: false))   // movw r1, #0xed04
        XCTAssertEqual(decode(0xF2CE, 0x0100), .moveHalf(register: 1, value: 0xE000, top: true))    // movt r1, #0xe000
    }

    func testAWideInstructionCutOffAtTheEndIsNotDecoded() {
        XCTAssertEqual(ThumbInstruction.decode(0xF7FF, nil, at: 0).1, 2)
        XCTAssertEqual(decode(0xF7FF), .other)
    }
}
