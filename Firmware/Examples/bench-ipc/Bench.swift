// Services benchmark: what a message, a signal and a lock cost, in the shapes FreeRTOS was measured in.
//
// `keel bench` (Sources/KeelKit/Bench/IPCBench.swift) counts the instructions QEMU executes
// in each window below, one run, windows in this order:
//   1. yield: `rounds` rounds of ping's yield loop, 2 switches each (as in bench-switch, but
//      with this image's kernel: mutexes declared, an interrupt attached);
//   2. queue: `rounds` round trips of a UInt32 through two queues of length 1;
//   3. semaphore: `rounds` round trips through two binary semaphores;
//   4. notification: `rounds` round trips of direct-to-task notifications;
//   5. mutex: `rounds` uncontended lock + unlock pairs;
//   6. interrupt, semaphore: `warmUp + interrupts` windows, each from the first instruction
//      of the interrupt's handler (the vector's target) to urgent's first instruction after
//      its wait, whose semaphore the handler gave;
//   7. interrupt, notification: the same, the handler notifying urgent (FreeRTOS's
//      definition of the shape: `vTaskNotifyGiveFromISR`).
// Ping and pong have equal priorities: the sender keeps running until it blocks in its own
// receive, so each message (2 per round trip) holds exactly one switch. Every phase starts
// with `warmUp` unmeasured rounds, so the window sees the steady state. No tick runs.

import Keel

let rounds = 1000
let warmUp = 4
let interrupts = 200
let interruptLine = 3

nonisolated(unsafe) var benchMarker: UInt32 = 0

/// Start of a measured window (its address is the counter's start marker).
@_silgen_name("keel_bench_start") @inline(never)
func benchStart() { benchMarker = 1 }

/// End of a measured window.
@_silgen_name("keel_bench_stop") @inline(never)
func benchStop() { benchMarker = 2 }

/// Runs `body` `warmUp` times, then `rounds` times inside a window.
@inline(__always)
func measured(_ body: () -> Void) {
    for _ in 0..<warmUp { body() }
    benchStart()
    for _ in 0..<rounds { body() }
    benchStop()
}

/// Waits for the interrupt's semaphore, then for its notification; each wake-up closes a window.
func urgentTask() {
    for _ in 0..<(warmUp + interrupts) {
        try? interruptSignal.take()
        benchStop()
    }
    while true {
        _ = try? Keel.waitForNotification(1)
        benchStop()
    }
}

func pingTask() {
    measured { Keel.yield() }
    measured {
        try? toPong.send(1)
        _ = try? toPing.receive()
    }
    measured {
        pongSignal.give()
        try? pingSignal.take()
    }
    measured {
        Tasks.pong.notify(1)
        _ = try? Keel.waitForNotification(1)
    }
    measured {
        try? lock.lock()
        try? lock.unlock()
    }
    // Pong waits for good now; urgent waits for the interrupt, which this task raises.
    Keel.attachInterrupt(interruptLine, priority: 0x80) { interruptSignal.give() }
    for _ in 0..<(warmUp + interrupts) { Keel.triggerInterrupt(interruptLine) }
    Keel.attachInterrupt(interruptLine, priority: 0x80) { Tasks.urgent.notify(1) }
    for _ in 0..<(warmUp + interrupts) { Keel.triggerInterrupt(interruptLine) }
    Keel.shutdown(code: 0)
}

/// Ping's partner: the same number of yields, then the other half of each round trip.
func pongTask() {
    for _ in 0..<(warmUp + rounds) { Keel.yield() }
    for _ in 0..<(warmUp + rounds) {
        let value = (try? toPong.receive()) ?? 0
        try? toPing.send(value)
    }
    for _ in 0..<(warmUp + rounds) {
        try? pongSignal.take()
        pingSignal.give()
    }
    for _ in 0..<(warmUp + rounds) {
        _ = try? Keel.waitForNotification(1)
        Tasks.ping.notify(1)
    }
    _ = try? Keel.waitForNotification(2)  // never comes: out of the way of the mutex and interrupt phases
}
