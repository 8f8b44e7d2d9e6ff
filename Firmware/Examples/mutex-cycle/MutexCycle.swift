// Locks that would close a wait-for cycle throw `.deadlock` instead of hanging.
//
// Round 1, two tasks: `left` holds `first` and waits for `second`; `right` holds `second` and
// asks for `first`. Waiting would close the cycle, so right's lock throws `.deadlock` (and the
// next tick prints a `keel:deadlock` record naming both tasks and both mutexes); right backs
// off, releasing `second`, left goes on, and right takes both afterwards.
// Round 2, three tasks: left holds `first` and waits for `second` (right's); `ring` holds
// `third` and waits for `first` (left's); right, holding `second`, asks for `third`: a cycle
// through all three, found by walking holder to holder (O(chain length), nothing allocated).
// The times are absolute ticks, so the order of events does not depend on run time.
import Keel

func leftTask() {
    for round in 1...2 {
        let start: UInt32 = round == 1 ? 0 : 50
        try? first.lock()
        Keel.sleep(until: start &+ 5)
        var result = "ok"
        do { try second.lock() } catch { result = "\(error)" }
        print("left: round \(round), holds first, lock second \(result)")
        try? second.unlock()
        try? first.unlock()
        Keel.sleep(until: 50)
    }
}

func ringTask() {
    Keel.sleep(until: 50)
    try? third.lock()
    Keel.sleep(until: 60)
    var result = "ok"
    do { try first.lock() } catch { result = "\(error)" }
    print("ring: round 2, holds third, lock first \(result)")
    try? first.unlock()
    try? third.unlock()
}

func rightTask() {
    for round in 1...2 {
        let start: UInt32 = round == 1 ? 0 : 50
        try? second.lock()
        Keel.sleep(until: start &+ (round == 1 ? 10 : 65))
        let wanted = round == 1 ? first : third
        var result = "ok"
        var locked = true
        do { try wanted.lock() } catch { result = "\(error)"; locked = false }
        print("right: round \(round), holds second, lock \(round == 1 ? "first" : "third") \(result)")
        if locked { try? wanted.unlock() }
        try? second.unlock()  // backing off lets the others finish
        // Afterwards both are free for the taking, in the same order as the others.
        var again = "ok"
        do {
            try wanted.lock()
            try second.lock()
            try second.unlock()
            try wanted.unlock()
        } catch {
            again = "\(error)"
        }
        print("right: round \(round), after backing off, took both: \(again)")
        Keel.sleep(until: 50)
    }
}
