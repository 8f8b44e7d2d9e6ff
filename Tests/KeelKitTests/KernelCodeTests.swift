// The kernel's functions told from the application's by symbol: Swift names of the Keel
// module, its C names and the compiler's specialised copies of those.

@testable import KeelKit
import XCTest

final class KernelCodeTests: XCTestCase {
    func testKernelSymbols() {
        for symbol in ["keel_wait", "keel_interrupt_dispatch", "keel_entry_main", "$e9keel_waitTf4nnnnd_n", "$e10keel_sleepTf4nd_n",
                       "$e4Keel5MutexV4lock7timeoutyAA7TimeoutV_tAA0B5ErrorOYKF", "$s4Keel6FaultsO5reportyyF"] {
            XCTAssertTrue(KernelCode.contains(symbol: symbol), symbol)
        }
    }

    func testApplicationAndRuntimeSymbols() {
        for symbol in ["$e3App8mainTaskyyFyycfU1_To", "$e3App8mainTaskyyF", "$e5Keels3FooV", "swift_release",
                       "memcpy", "$es15__StringStorageCfD", "$e", "$e0", "handlerKeel", "__morestack"] {
            XCTAssertFalse(KernelCode.contains(symbol: symbol), symbol)
        }
    }

    /// A C name the Keel module exports from a Swift function of the same name is the kernel's;
    /// an application's C name, or one the kernel only calls, is not.
    func testCNamesTheKernelExports() {
        let symbols = ["memmove", "$e4Keel7memmoveyS2v_SVSitF", "sensor_isr", "$e3App10sensor_isryyF", "memcpy",
                       "$e4Keel5MutexV4lockyyF", "swift_release"]
        XCTAssertEqual(KernelCode.exportedCNames(symbols), ["memmove"])
    }
}
