// Event flags: a set wakes exactly the waiters whose condition it completes, most urgent
// first; an all-wait needs every bit, an any-wait one; a clearing wait takes its bits, so
// of two waiters for one bit the more urgent gets it and the other waits on; a set in an
// interrupt handler runs the woken task on exception return; timeouts are exact.
// Priorities: first 5, both 4, either 3, second 2, setter 1.
//
// `setter` (least urgent) drives; the others wait on `radio` and log what they got. The log
// is the order things happened in, printed by `setter` after each step.

import Keel

func bothTask() {
    while true {
        let got = try! radio.wait(forAll: 0b11, clearing: true)
        log.append("both:", got)
    }
}

func eitherTask() {
    while true {
        let got = try! radio.wait(forAny: 0b1100)
        log.append("either:", got)
        radio.clear(0b1100)
    }
}

/// `first` and `second` both wait for bit 4, clearing it: one set, one of them.
func firstTask() {
    while true { log.append("first:", try! radio.wait(forAny: 0x10, clearing: true)) }
}

func secondTask() {
    while true { log.append("second:", try! radio.wait(forAny: 0x10, clearing: true)) }
}

func setterTask() {
    runChecks()
    Keel.shutdown(code: 0)
}

/// The checks, in a frame of their own: the shutdown's report then runs from `setterTask`'s small
/// frame, within the slack a prologue-checked task keeps below its limit (the micro:bit's default).
@inline(never)
func runChecks() {
    Keel.sleep(ticks: 1)  // every waiter is waiting now
    begin(); radio.set(0b01); end("bit 0 alone wakes no one")
    begin(); radio.set(0b10); end("bit 1 completes both's pair")
    begin(); radio.set(0b1000); end("bit 3 wakes either")
    Keel.attachInterrupt(4) { radio.set(0b100) }
    begin(); Keel.triggerInterrupt(4); end("bit 2 from a handler wakes either before setter goes on")
    begin(); radio.set(0x10); end("bit 4 goes to the more urgent of two clearing waiters")
    begin(); radio.set(0x20); end("bit 5 is no one's: no one wakes")
    radio.clear(0x20)
    begin(); radio.set(0x1F); end("bits 0-4 at once: each waiter in turn, second finds bit 4 taken")

    // An initial value, and timeouts.
    print("flags: ready starts at \(ready.value), any of 4 gives \((try? ready.wait(forAny: 4, timeout: .noWait)) ?? 0)")
    Keel.sleep(ticks: 1)
    var start = Keel.ticks
    var timedOut = false
    do { _ = try ready.wait(forAll: 0b111, timeout: .ticks(4)) } catch { timedOut = true }
    print("flags: all of 0b111 \(timedOut ? "timed-out" : "got") after \(Keel.ticks &- start) of 4")
    Keel.sleep(ticks: 1)
    start = Keel.ticks
    timedOut = false
    do { _ = try ready.wait(forAny: 0b10, timeout: .noWait) } catch { timedOut = true }
    print("flags: no-wait \(timedOut ? "timed-out" : "got") after \(Keel.ticks &- start) of 0")
    ready.set(0b10)
    print("flags: all of 0b111 after setting bit 1: \((try? ready.wait(forAll: 0b111, clearing: true, timeout: .noWait)) ?? 0), left \(ready.value)")
}

/// Before a step: the log starts anew.
func begin() {
    log.clear()
    log.append("set")
}

/// After a step: what the waiters did meanwhile, and the flags left.
func end(_ what: StaticString) {
    log.append("setter")
    print("flags: \(what): \(log.text) left \(radio.value)")
}

/// What happened, in order, as text.
struct Log {
    var entries = InlineArray<8, (StaticString, UInt32)>(repeating: ("", 0))
    var count = 0
    mutating func append(_ word: StaticString, _ value: UInt32 = .max) {
        if count < 8 { entries[count] = (word, value); count += 1 }
    }
    mutating func clear() { count = 0 }
    var text: String {
        var text = ""
        for index in 0..<count {
            text += (index == 0 ? "" : " ") + entries[index].0.description
            if entries[index].1 != .max { text += "\(entries[index].1)" }
        }
        return text
    }
}
nonisolated(unsafe) var log = Log()
