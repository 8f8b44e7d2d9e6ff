// A failed compile of sources from an older Keel ends with the one line that fixes it.

import Foundation
@testable import KeelKit
import XCTest

final class OlderKeelHintTests: XCTestCase {
    func testImportIsFoundOutsideComments() {
        XCTAssertTrue(OlderKeelHint.importsKeel("import Keel\nfunc f() {}"))
        XCTAssertTrue(OlderKeelHint.importsKeel("@_spi(Build) import Keel"))
        XCTAssertFalse(OlderKeelHint.importsKeel("// import Keel\nfunc f() {}"))
        XCTAssertFalse(OlderKeelHint.importsKeel("import KeelKit"))
        XCTAssertFalse(OlderKeelHint.importsKeel("let s = \"import Keel\""))
    }

    func testAFailedCompileOfAFileWithoutTheImportGetsTheHint() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keel-hint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let old = directory.appendingPathComponent("Old.swift"), new = directory.appendingPathComponent("New.swift")
        try "func mainTask() { Keel.sleep(ticks: 1) }\n".write(to: old, atomically: true, encoding: .utf8)
        try "import Keel\nfunc other() {}\n".write(to: new, atomically: true, encoding: .utf8)
        let failed = KeelError.buildFailed(step: "swiftc (old)", output: "Old.swift:1:19: error: cannot find 'Keel' in scope")
        XCTAssertEqual(OlderKeelHint.annotated(failed, sources: [old, new]), .buildFailed(step: "swiftc (old)",
            output: "Old.swift:1:19: error: cannot find 'Keel' in scope\nhint: Old.swift has no `import Keel`; the kernel is a module "
                + "of its own now (an older Keel compiled it with the application): add \"import Keel\" at the top of it"))
        // Every file imports it: the compiler's errors stand alone.
        XCTAssertEqual(OlderKeelHint.annotated(failed, sources: [new]), failed)
        // Not a compile failure: unchanged.
        XCTAssertEqual(OlderKeelHint.annotated(.runFailed("x"), sources: [old]), .runFailed("x"))
    }
}
