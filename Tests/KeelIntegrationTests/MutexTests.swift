// Robust mutexes and visible deadlocks, on every board: a holder killed (or restarted) while it
// holds a mutex leaves `.ownerDied` to its next taker once, repaired with `markConsistent()` or
// lost for good (`.notRecoverable`); a lock that would close a wait-for cycle of two or three
// tasks throws `.deadlock` and the kernel's record names the cycle; and a partial deadlock,
// which no lock can refuse, shows in the table `keel run --timeout` prints: what each waiting
// task waits for, a mutex's holder, and since which tick.

import KeelKit
import XCTest

final class MutexTests: XCTestCase {
    static var firmware: [TestFirmware.Request] {
        allBoards.flatMap { board in
            [TestFirmware.Request(app: "owner-died", board: board), .init(app: "mutex-cycle", board: board),
             .init(app: "partial-deadlock", board: board, running: false)]
        }
    }
    override class func setUp() { TestFirmware.shared.warm(firmware) }

    func testTheNextTakerOfADeadHoldersMutexIsToldOnceAndMustRepair() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("owner-died", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            // writer dies holding ledger and cache; flaky dies holding journal and is restarted.
            XCTAssertEqual(result.faults.map(\.task), ["flaky", "writer"], log)
            XCTAssertEqual(result.faults.map(\.action), ["restart", "kill"], log)
            // Handed over to a waiter: told once, repaired, then an ordinary lock.
            XCTAssertTrue(result.output.contains("reader: lock threw ownerDied, accounts sum 60, repairing"), log)
            XCTAssertTrue(result.output.contains("reader: next lock ok, accounts sum 100"), log)
            // Taken free by plain withLock: the body does not run, and no one can trust it after.
            XCTAssertTrue(result.output.contains(
                "reader: cache withLock threw ownerDied, body ran false, then lock threw notRecoverable, recoverable false"), log)
            // A restarted holder's own next lock is the one told; withLock(repairing:) repairs.
            XCTAssertTrue(result.output.contains("flaky: run 2, journal repaired true, entries 0"), log)
            XCTAssertTrue(result.output.contains("flaky: next lock ok"), log)
            XCTAssertFalse(result.output.contains { $0.contains("not reached") || $0.contains("not expected") }, log)
        }
    }

    func testALockThatWouldCloseACycleThrowsDeadlockAndTheRecordNamesTheCycle() throws {
        for board in allBoards {
            let result = try TestFirmware.shared.run("mutex-cycle", board: board)
            let log = "\(board):\n\(transcript(result))"
            XCTAssertEqual(result.exitCode, 0, log)
            XCTAssertTrue(result.faults.isEmpty, log)
            XCTAssertEqual(result.deadlocks, [
                DeadlockRecord(cycle: ["right", "first", "left", "second"]),
                DeadlockRecord(cycle: ["right", "third", "ring", "first", "left", "second"]),
            ], log)
            for line in ["right: round 1, holds second, lock first deadlock", "left: round 1, holds first, lock second ok",
                         "right: round 1, after backing off, took both: ok",
                         "right: round 2, holds second, lock third deadlock", "left: round 2, holds first, lock second ok",
                         "ring: round 2, holds third, lock first ok", "right: round 2, after backing off, took both: ok"] {
                XCTAssertTrue(result.output.contains(line), "missing '\(line)'; \(log)")
            }
            XCTAssertEqual(Set(result.stacks.map(\.state)), ["exited"], "every task finished: \(log)")
        }
    }

    /// The image names its objects' storage by symbol; the manifest, when given, their names.
    func testWaitObjectsAreNamedFromTheImageAndTheManifest() throws {
        let image = try TestFirmware.shared.image("partial-deadlock", board: "mps2-an385")
        let elf = try ELFFile(contentsOf: image.elf)
        let named = try TaskTableImage(contentsOf: image.elf, objects: image.application.objects).waitObjects
        XCTAssertEqual(Set(named.values.map(\.description)), ["mutex 'bus'", "semaphore 'never'", "a notification"])
        let numbered = try TaskTableImage(contentsOf: image.elf).waitObjects
        XCTAssertEqual(Set(numbered.values.map(\.description)), ["mutex #0", "semaphore #0", "a notification"])
        let mutex = try XCTUnwrap(elf.symbol(named: WaitObjects.mutexesSymbol))
        XCTAssertEqual(named[mutex.value]?.kind, .mutex, "a mutex's waiters mask is its first word")
        let queues = try TestFirmware.shared.image("queues", board: "mps2-an385")
        let queueMap = try TaskTableImage(contentsOf: queues.elf).waitObjects
        XCTAssertTrue(queueMap.values.contains { $0.kind == .queueReceive && $0.name != nil }, "\(queueMap)")
        XCTAssertTrue(queueMap.values.contains { $0.kind == .queueSend && $0.name != nil }, "\(queueMap)")
    }

    func testAPartialDeadlockShowsWhatEachTaskWaitsForAndSinceWhen() throws {
        for board in allBoards {
            let image = try TestFirmware.shared.image("partial-deadlock", board: board)
            let runner = try XCTUnwrap(TestFirmware.shared.runner)
            let result = try runner.run(image, options: RunOptions(timeoutSeconds: 2, readsTasksAtTimeout: true))
            let log = "\(board):\n\(transcript(result))"
            XCTAssertTrue(result.timedOut, log)
            XCTAssertTrue(result.output.contains("ticker: still running"), "one task runs on: \(log)")
            let table = try XCTUnwrap(result.tasksAtTimeout, "\(board): \(result.tasksAtTimeoutProblem ?? "no problem given")")
            let text = RunReport.taskTable(table)
            let waiter = try XCTUnwrap(table["waiter"], text), holder = try XCTUnwrap(table["holder"], text)
            XCTAssertEqual(waiter.state, "waiting", text)
            XCTAssertEqual(waiter.waitingFor, "mutex 'bus' held by 'holder'", text)
            XCTAssertEqual(holder.waitingFor, "semaphore 'never'", text)
            // waiter asks at tick 20, holder at 10 (a tick more if the tick came between).
            XCTAssertTrue((20...21).contains(waiter.waitingSince ?? 0), text)
            XCTAssertTrue((10...11).contains(holder.waitingSince ?? 0), text)
            XCTAssertNil(table["ticker"]?.waitingFor, "sleeping is no wait on an object: \(text)")
            XCTAssertGreaterThan(table.tick ?? 0, 100, text)
            XCTAssertTrue(text.contains("mutex 'bus' held by 'holder' since tick \(waiter.waitingSince ?? 0) ("), text)
        }
    }
}
