// Producer → filter → consumer through two queues, many thousands of messages under a fast
// tick, checked end to end; and a task that measures every timeout to the tick.
import Keel

/// What the filter passes on: the sequence number and the value derived from it.
struct Reading: BitwiseCopyable {
    var sequence: UInt32
    var value: UInt32
}

let messages: UInt32 = 5000

func producerTask() {
    try? timingDone.take()  // the timing checks run on an idle system first
    for sequence in 0..<messages {
        do { try raw.send(sequence) } catch { print("producer: send timed out with no timeout") }
    }
    print("producer: sent \(messages)")
}

func filterTask() {
    while true {
        guard let sequence = try? raw.receive() else { continue }
        try? cooked.send(Reading(sequence: sequence, value: sequence &* 3 &+ 1))
    }
}

func consumerTask() {
    var expected: UInt32 = 0
    var lost: UInt32 = 0, duplicated: UInt32 = 0, corrupt: UInt32 = 0
    var checksum: UInt32 = 0
    while expected < messages {
        guard let reading = try? cooked.receive(timeout: .milliseconds(100)) else { print("consumer: stalled at \(expected)"); break }
        if reading.value != reading.sequence &* 3 &+ 1 { corrupt &+= 1 }
        if reading.sequence < expected { duplicated &+= 1; continue }
        lost &+= reading.sequence &- expected
        checksum = checksum &* 31 &+ reading.value
        expected = reading.sequence &+ 1
    }
    var reference: UInt32 = 0
    for sequence in 0..<messages { reference = reference &* 31 &+ (sequence &* 3 &+ 1) }
    print("consumer: received \(expected) lost \(lost) duplicated \(duplicated) corrupt \(corrupt) checksum \(checksum == reference ? "ok" : "wrong")")
    Keel.shutdown(code: 0)
}

/// Each line: what was waited for, the ticks it took, and the ticks asked for.
func timingTask() {
    Keel.sleep(ticks: 1)  // start on a tick boundary: the waits below begin right after a tick
    var start = Keel.ticks
    let nothing = try? empty.receive(timeout: .ticks(5))
    print("timing: receive-empty \(nothing == nil ? "timed-out" : "got") after \(Keel.ticks &- start) of 5")
    print("timing: try-receive-empty \(empty.tryReceive() == nil ? "nil" : "value")")
    var sent = 0
    while small.trySend(UInt16(sent)) { sent += 1 }
    print("timing: try-send-full accepted \(sent) of \(small.capacity) count \(small.count)")
    Keel.sleep(ticks: 1)
    start = Keel.ticks
    var fullTimedOut = false
    do { try small.send(99, timeout: .ticks(3)) } catch { fullTimedOut = true }
    print("timing: send-full \(fullTimedOut ? "timed-out" : "sent") after \(Keel.ticks &- start) of 3")
    print("timing: fifo \(small.tryReceive() ?? 9) \(small.tryReceive() ?? 9) then \(small.tryReceive() == nil ? "empty" : "more")")
    Keel.sleep(ticks: 1)
    start = Keel.ticks
    var semaphoreTimedOut = false
    do { try never.take(timeout: .ticks(7)) } catch { semaphoreTimedOut = true }
    print("timing: take-empty \(semaphoreTimedOut ? "timed-out" : "taken") after \(Keel.ticks &- start) of 7")
    Keel.sleep(ticks: 1)
    start = Keel.ticks
    let bits = try? Keel.waitForNotification(timeout: .ticks(2))
    print("timing: notification \(bits == nil ? "timed-out" : "got") after \(Keel.ticks &- start) of 2")
    Keel.sleep(ticks: 1)
    start = Keel.ticks
    var noWaitFailed = false
    do { try never.take(timeout: .noWait) } catch { noWaitFailed = true }
    print("timing: no-wait \(noWaitFailed ? "timed-out" : "taken") after \(Keel.ticks &- start) of 0")
    timingDone.give()
}
