// The firmware's "keel:" records and the lines a person reads from them.

@testable import KeelKit
import XCTest

final class ConsoleRecordTests: XCTestCase {
    let faultLine = "keel:fault task=runaway kind=stack-overflow technique=red-zone pc=0x00001234 sp=0x200007e0 limit=0x20000800 cfsr=0x00000000 hfsr=0x00000000 mmfar=0x00000000 bfar=0x00000000 action=kill"

    func testFaultRecordIsDecodedAndDescribed() throws {
        guard case .fault(var fault) = ConsoleRecord.parse(faultLine) else { return XCTFail("not a fault") }
        XCTAssertEqual(fault.task, "runaway")
        XCTAssertEqual(fault.pc, 0x1234)
        XCTAssertEqual(fault.limit, 0x2000_0800)
        fault.function = "descend(_:)"
        XCTAssertEqual(RunReport.describe(fault),
                       "FAULT task 'runaway': stack overflow caught by T4 software red zone, at switch-out; pc 0x00001234 in descend(_:), sp 0x200007e0, stack limit 0x20000800 (32 bytes below); task stopped, others continue")
    }

    func testLimitRegisterFaultNamesSTKOF() throws {
        let line = "keel:fault task=deep kind=stack-overflow technique=limit-register pc=0x00000000 sp=0x38000800 limit=0x38000800 cfsr=0x00100000 hfsr=0x00000000 mmfar=0x00000000 bfar=0x00000000 action=kill"
        guard case .fault(let fault) = ConsoleRecord.parse(line) else { return XCTFail("not a fault") }
        XCTAssertEqual(RunReport.describe(fault),
                       "FAULT task 'deep': stack overflow caught by T1 stack-limit register (PSPLIM, MSPLIM for the handler stack); pc not stacked, sp 0x38000800, stack limit 0x38000800, CFSR 0x00100000 (STKOF); task stopped, others continue")
    }

    func testStackRecordsAndPlainLines() {
        XCTAssertEqual(ConsoleRecord.parse("keel:stack task=a size=1024 used=300 protection=paint,sp-check state=exited"),
                       .stack(StackRecord(task: "a", size: 1024, used: 300, protection: ["paint", "sp-check"], state: "exited")))
        XCTAssertEqual(ConsoleRecord.parse("keel:stack task=b size=512 used=? protection=none state=killed"),
                       .stack(StackRecord(task: "b", size: 512, used: nil, protection: [], state: "killed")))
        XCTAssertEqual(ConsoleRecord.parse("hello keel:fault"), .output("hello keel:fault"))
        XCTAssertEqual(ConsoleRecord.parse("keel:fault task=x"), .output("keel:fault task=x"), "incomplete records stay text")
        XCTAssertEqual(ConsoleRecord.parse("keel:end code=3"), .end(code: 3))
    }

    func testStackTable() {
        let table = RunReport.stackTable([StackRecord(task: "sensor", size: 1024, used: 516, protection: ["paint"], state: "exited")])
        XCTAssertEqual(table, """
        task    stack  used   %  protection  state
        ------  -----  ----  --  ----------  ------
        sensor   1024   516  50  paint       exited
        """)
    }

    func testDeadlockRecordNamesTheCycle() {
        let two = ConsoleRecord.parse("keel:deadlock cycle=right,first,left,second")
        guard case .deadlock(let record) = two else { return XCTFail("\(two)") }
        XCTAssertEqual(record.tasks, ["right", "left"])
        XCTAssertEqual(record.mutexes, ["first", "second"])
        XCTAssertEqual(RunReport.describe(record),
                       "DEADLOCK refused: 'right' would wait for mutex 'first' held by 'left', which waits for mutex 'second' "
                       + "held by 'right'; its lock threw .deadlock instead of waiting forever")
        guard case .deadlock(let three) = ConsoleRecord.parse("keel:deadlock cycle=c,z,a,x,b,y") else { return XCTFail() }
        XCTAssertEqual(RunReport.describe(three),
                       "DEADLOCK refused: 'c' would wait for mutex 'z' held by 'a', which waits for mutex 'x' held by 'b', "
                       + "which waits for mutex 'y' held by 'c'; its lock threw .deadlock instead of waiting forever")
        guard case .deadlock(let more) = ConsoleRecord.parse("keel:deadlock cycle=a,x,b,y dropped=2") else { return XCTFail() }
        XCTAssertEqual(more.dropped, 2)
        XCTAssertTrue(RunReport.describe(more).hasSuffix("(and 2 more refused before this was printed, not recorded)"))
        // A cut-off line is shown as it came, not decoded into half a cycle.
        XCTAssertEqual(ConsoleRecord.parse("keel:deadlock cycle=right,first,left"), .output("keel:deadlock cycle=right,first,left"))
        XCTAssertEqual(ConsoleRecord.parse("keel:deadlock"), .output("keel:deadlock"))
    }

    /// The boot line's build ID, and the check every decoder makes with it.
    func testBootLineNamesTheBuildAndAnotherBuildIsRefused() throws {
        let identity = try XCTUnwrap(BuildIdentity(parsing: "0ff0a3ee24147e87"))
        XCTAssertEqual(ConsoleRecord.parse("keel:boot id=0ff0a3ee24147e87"), .boot(identity))
        XCTAssertEqual(ConsoleRecord.parse("keel:boot"), .boot(nil), "a kernel from before images carried an ID")
        XCTAssertEqual(ConsoleRecord.parse("keel:boot id=0ff0"), .boot(nil), "not 16 hex digits")
        XCTAssertEqual(BuildIdentity(bytes: [0x87, 0x7e, 0x14, 0x24, 0xee, 0xa3, 0xf0, 0x0f]), identity, "little-endian, low word first")
        XCTAssertEqual(BuildIdentity(0x1f).description, "000000000000001f")
        let elf = URL(fileURLWithPath: "/tmp/app.elf")
        XCTAssertNoThrow(try BuildIdentity.check(booted: identity, image: identity, elf: elf))
        XCTAssertNoThrow(try BuildIdentity.check(booted: nil, image: nil, elf: elf))
        let other = BuildIdentity(0x9b26079d8e157e58)
        XCTAssertThrowsError(try BuildIdentity.check(booted: identity, image: other, elf: elf)) { error in
            XCTAssertEqual((error as? KeelError)?.exitCode, 2)
            XCTAssertEqual("\(error)", "the console comes from build 0ff0a3ee24147e87, but /tmp/app.elf is build 9b26079d8e157e58: "
                + "decode it with the ELF of the build that ran (was the application rebuilt since?)")
        }
        XCTAssertThrowsError(try BuildIdentity.check(booted: nil, image: other, elf: elf, source: "the target runs")) { error in
            XCTAssertEqual("\(error)", "the target runs a build without an ID (an older keel), but /tmp/app.elf is build 9b26079d8e157e58: "
                + "decode it with the ELF of the build that ran (was the application rebuilt since?)")
        }
    }
}
