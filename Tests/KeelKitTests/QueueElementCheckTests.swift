// Queue slots against the element sizes the compiler gave the application's types.

@testable import KeelKit
import XCTest

/// The element strides the build reads back from the application's IR, and the error a wrong
/// "element_bytes" gets.
final class QueueElementCheckTests: XCTestCase {
    let ir = """
        @keel_queue_stride_raw = protected constant %TSi <{ i32 4 }>, align 4
        @keel_queue_stride_cooked = protected constant %TSi <{ i32 8 }>, align 4
        @"$e3App14keelStrideBig2Sivp" = protected constant %TSi <{ i32 16 }>, align 4
        """

    func testStridesAreReadFromTheIR() {
        XCTAssertEqual(QueueElementCheck.strides(inIR: ir), ["raw": 4, "cooked": 8])
    }

    func testAWrongElementBytesNamesTheQueueAndTheSize() {
        var objects = KernelObjects()
        objects.queues = [QueueSpec(name: "raw", element: "UInt32", capacity: 4, elementBytes: 4),
                          QueueSpec(name: "cooked", element: "Reading", capacity: 3, elementBytes: 8)]
        XCTAssertNoThrow(try QueueElementCheck.check(objects, ir: ir, manifestPath: "keel.json"))
        objects.queues[1].elementBytes = 12
        XCTAssertThrowsError(try QueueElementCheck.check(objects, ir: ir, manifestPath: "keel.json")) { error in
            XCTAssertEqual(error as? KeelError, .manifestInvalid(path: "keel.json", problem: "'queues'.'cooked': an element of type "
                + "Reading is 8 bytes (its MemoryLayout<Reading>.stride), but \"element_bytes\" says 12; declare \"element_bytes\": 8"))
        }
    }
}
