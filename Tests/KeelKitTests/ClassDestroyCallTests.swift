// The destroy-call recogniser on the instruction shapes swift_release compiles to, and on
// near misses it must leave to the address-taken rule.

@testable import KeelKit
import XCTest

final class ClassDestroyCallTests: XCTestCase {
    typealias Step = ClassDestroyCall.Step

    /// Thumb halfwords from 0x1000 on (all 16-bit here).
    func steps(_ halfwords: [UInt16]) -> [Step] {
        halfwords.enumerated().map { Step(address: 0x1000 + UInt32($0.offset * 2), first: $0.element, second: nil) }
    }

    // swift_release on the M3 (checked with llvm-objdump):
    //   str r1, [r0, #4]; ldr r1, [r0]; mov r10, r0; ldr r1, [r1, #4]; blx r1
    let release: [UInt16] = [0x6041, 0x6801, 0x4682, 0x6849, 0x4788]

    func testTheReleaseShapeIsADestroyCall() {
        XCTAssertTrue(ClassDestroyCall.matches(steps(release), site: 4, register: 1, branchTargets: []))
        // ldr.w r1, [r1, #4] (T3) in place of the 16-bit load.
        var wide = steps(release)
        wide[3] = Step(address: 0x1006, first: 0xF8D1, second: 0x1004)
        XCTAssertTrue(ClassDestroyCall.matches(wide, site: 4, register: 1, branchTargets: []))
    }

    func testNearMissesAreLeftToTheAddressTakenRule() {
        // Another slot (ldr r1, [r1, #12]): a vtable call, not the destroy slot.
        XCTAssertFalse(ClassDestroyCall.matches(steps([0x6041, 0x6801, 0x4682, 0x68C9, 0x4788]), site: 4, register: 1, branchTargets: []))
        // The first load not from offset 0 (ldr r1, [r0, #8]): not an object's metadata.
        XCTAssertFalse(ClassDestroyCall.matches(steps([0x6041, 0x6881, 0x4682, 0x6849, 0x4788]), site: 4, register: 1, branchTargets: []))
        // The register changed between the load and the jump (adds r1, #1).
        XCTAssertFalse(ClassDestroyCall.matches(steps([0x6041, 0x6801, 0x6849, 0x3101, 0x4788]), site: 4, register: 1, branchTargets: []))
        // A branch lands between the loads and the jump.
        XCTAssertFalse(ClassDestroyCall.matches(steps(release), site: 4, register: 1, branchTargets: [0x1006]))
        // An IT block (it eq, mask 0b1000: one instruction) makes the first load conditional.
        XCTAssertFalse(ClassDestroyCall.matches(steps([0xBF08, 0x6801, 0x4682, 0x6849, 0x4788]), site: 4, register: 1, branchTargets: []))
        // ... but not when it covers only what comes before the loads.
        XCTAssertTrue(ClassDestroyCall.matches(steps([0xBF08, 0x6041, 0x6801, 0x4682, 0x6849, 0x4788]), site: 5, register: 1, branchTargets: []))
        // A 32-bit instruction the recogniser does not know, in between.
        var unknown = steps(release)
        unknown[2] = Step(address: 0x1004, first: 0xF06C, second: 0x4100)
        XCTAssertFalse(ClassDestroyCall.matches(unknown, site: 4, register: 1, branchTargets: []))
    }
}
