// The split-stack route's IR rewrite: which functions keep the prologue.

@testable import KeelKit
import XCTest

final class SplitStackIRTests: XCTestCase {
    /// A module in the shape swiftc emits: every function "split-stack", one attribute group.
    let module = """
    target triple = "thumbv6m-none-none-eabi"
    define void @keel_systick_handler() #0 {
      tail call swiftcc void @"$e4Kern4wakeyyF"()
      ret void
    }
    define swiftcc void @"$e4Kern4wakeyyF"() #0 {
      call void @memset(ptr null, i32 0, i32 4)
      ret void
    }
    define swiftcc void @"$e3App4taskyyF"() #0 !dbg !5 {
      call swiftcc void @"$e4Kern4wakeyyF"()
      %1 = call swiftcc i32 @"$e3App5depthys6UInt32VF"(i32 3)
      call void %2(ptr @"$e4Kern5sleepyyF")
      ret void
    }
    define swiftcc i32 @"$e3App5depthys6UInt32VF"(i32 %0) #1 {
      ret i32 %0
    }
    define swiftcc void @"$e4Kern5sleepyyF"() #0 {
      ret void
    }
    define void @memset(ptr %0, i32 %1, i32 %2) #1 {
      ret void
    }
    attributes #0 = { nounwind "split-stack" "target-cpu"="cortex-m0" }
    attributes #1 = { nofree "split-stack" }
    attributes #2 = { nounwind }
    """

    func testHandlersTheirCalleesAndCNamesLoseThePrologueTaskCodeKeepsIt() {
        let result = SplitStackIR.rewrite(module, splitStack: true)
        XCTAssertEqual(Set(result.unsplit), ["keel_systick_handler", "$e4Kern4wakeyyF", "memset"])
        // Only tasks reach these; a function pointer passed as an argument is not a call.
        XCTAssertEqual(Set(result.split), ["$e3App4taskyyF", "$e3App5depthys6UInt32VF", "$e4Kern5sleepyyF"])
        XCTAssertTrue(result.text.contains("target triple = \"thumbv6m-unknown-linux-gnueabi\""))
        // Twins without the mark; the unsplit definitions point at them.
        XCTAssertTrue(result.text.contains("attributes #3 = { nounwind \"target-cpu\"=\"cortex-m0\" }"), result.text)
        XCTAssertTrue(result.text.contains("attributes #4 = { nofree }"), result.text)
        XCTAssertTrue(result.text.contains("define void @keel_systick_handler() #3 {"), result.text)
        XCTAssertTrue(result.text.contains("define void @memset(ptr %0, i32 %1, i32 %2) #4 {"), result.text)
        XCTAssertTrue(result.text.contains("define swiftcc void @\"$e3App4taskyyF\"() #0 !dbg !5 {"), result.text)
    }

    func testWithoutSplitStackEveryMarkGoes() {
        let result = SplitStackIR.rewrite(module, splitStack: false)
        XCTAssertEqual(result.split, [])
        XCTAssertFalse(result.text.split(separator: "\n").contains { $0.hasPrefix("define") && ($0.contains(" #0 ") || $0.contains(" #1 ")) },
                       result.text)
    }
}
