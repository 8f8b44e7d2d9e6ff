// Robust mutexes: a holder that dies leaves its data half-updated, and the next taker is told.
//
// `writer` holds `ledger` and `cache`, moves money between two accounts halfway and dies of a
// trap (killed: "expect": "fault"). `reader`, waiting for `ledger` meanwhile, gets it handed
// over with `.ownerDied`: it checks the books, repairs them, calls `markConsistent()`, and
// the next lock is an ordinary one. `cache` it takes with plain `withLock`, which refuses to
// run its body on possibly broken data: the mutex is released unrepaired and every later lock
// throws `.notRecoverable`. `flaky` dies holding `journal` and is restarted by its policy: its
// own next lock is told `.ownerDied` (its earlier run died holding it), it repairs through
// `withLock(repairing:)`.
import Keel

/// Two accounts whose sum must stay 100; `ledger` guards them.
nonisolated(unsafe) var accounts: (UInt32, UInt32) = (100, 0)
/// Runs of `flaky` so far (a restart starts it again from its entry).
nonisolated(unsafe) var flakyRuns: UInt32 = 0
nonisolated(unsafe) var journalEntries: UInt32 = 0

/// A trap the optimiser cannot remove: a division by a zero it cannot see.
@inline(never)
func die(_ divisor: UInt32) -> UInt32 { 100 / divisor }

func writerTask() {
    try? ledger.lock()
    try? cache.lock()
    accounts.0 -= 40  // the first half of a transfer...
    Keel.sleep(ticks: 5)  // (reader waits for the ledger meanwhile)
    accounts.1 &+= die(Keel.ticks &* 0)  // ...and the task dies before the second half
    print("writer: not reached")
}

func flakyTask() {
    flakyRuns &+= 1
    if flakyRuns == 1 {
        try? journal.lock()
        journalEntries = 0xDEAD  // half-written
        _ = die(Keel.ticks &* 0)
    }
    var repaired = false
    let entries = try? journal.withLock(repairing: { journalEntries = 0; repaired = true }) { journalEntries }
    print("flaky: run \(flakyRuns), journal repaired \(repaired), entries \(entries ?? 99)")
    var again = "ok"
    do { try journal.lock(); try journal.unlock() } catch { again = "\(error)" }
    print("flaky: next lock \(again)")
}

func readerTask() {
    Keel.sleep(ticks: 1)
    repairLedger()
}

/// Waits for the ledger while its holder dies, then repairs the books.
@inline(never)
func repairLedger() {
    do {
        try ledger.lock()
        print("reader: lock returned normally (not expected)")
    } catch .ownerDied {
        let sum = accounts.0 &+ accounts.1
        print("reader: lock threw ownerDied, accounts sum \(sum), repairing")
        accounts = (accounts.0, 100 &- accounts.0)
        try? ledger.markConsistent()
    } catch {
        print("reader: lock threw \(error)")
    }
    try? ledger.unlock()
    var next = "ok"
    do { try ledger.lock(); try ledger.unlock() } catch { next = "\(error)" }
    print("reader: next lock \(next), accounts sum \(accounts.0 &+ accounts.1)")
    takeCache()
}

/// Plain `withLock` on a mutex whose holder died: the body does not run, the mutex is lost.
/// (Its own function: each of the reader's steps keeps a small frame.)
@inline(never)
func takeCache() {
    var ran = false
    var first = "ok"
    do { try cache.withLock { ran = true } } catch { first = "\(error)" }
    var second = "ok"
    do { try cache.lock() } catch { second = "\(error)" }
    print("reader: cache withLock threw \(first), body ran \(ran), then lock threw \(second), recoverable \(cache.isRecoverable)")
}
