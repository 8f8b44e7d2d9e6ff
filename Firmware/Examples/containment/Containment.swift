// Containment on evidence: three overflows, and no task stopped that the evidence says was
// not harmed.
//
//   runaway  recurses without end on a T2 stack (the micro:bit: T6). The MPU refuses its first
//            write below the stack (the neighbours in the T2 block are no-access), so nothing
//            of theirs was written: `keeper`, a T2 task that sleeps, must run on untouched.
//   jumper   takes a 1280-byte buffer behind a 32-byte T3 guard and writes its lowest word
//            first: the write lands past the guard, in whatever lies below, and is refused
//            there (a T2 stack on the M3, below RAM on the M33; the micro:bit: T6 refuses the
//            call): nothing below was written, nobody else is stopped.
//   dipper   (T5) recurses until SP is 64-128 bytes below its stack, then yields: the switch
//            finds SP below the stack after the fact. The stack below is `sleeper`'s, whose
//            live part (its saved frame, at its top) lay in that range: the frame the switch
//            pushed is proven written, dipper's own frames only possibly. The kernel stops
//            `sleeper` and says that the evidence is ambiguous ("possibly overwritten").
//
// `driver` starts them one at a time and ends the run with one line:
// `containment: keeper running=yes sleeper running=no`. With a task named `lingerer` (the
// tests add one) it does not end the run: the stopped tasks stay in the task table that
// `keel top` and a `--timeout` show, each saying why it was stopped.
//
// `"stack_check": "warn"`: the overflows are the point, so `keel check` fails by design.

import Keel

nonisolated(unsafe) var phase: UInt32 = 0

func keeperTask() {
    while true { Keel.sleep(ticks: 7) }
}

func sleeperTask() {
    while true { Keel.sleep(ticks: 5) }
}

func runawayTask() {
    while phase < 1 { Keel.sleep(ticks: 1) }
    print("runaway: recursing")
    print("runaway: \(recurse(1)) (not caught)")
}

func jumperTask() {
    while phase < 2 { Keel.sleep(ticks: 1) }
    print("jumper: a 1280-byte buffer, lowest word first")
    print("jumper: \(lowestFirst()) (not caught)")
}

func dipperTask() {
    while phase < 3 { Keel.sleep(ticks: 1) }
    print("dipper: dipping below the stack")
    let floor = Keel.stackBottom &- 64
    print("dipper: \(dip(until: floor)) (not caught)")
}

func driverTask() {
    for step in 1...3 as ClosedRange<UInt32> {
        Keel.sleep(ticks: 20)
        phase = step
        Keel.sleep(ticks: 20)
    }
    Keel.sleep(ticks: 20)
    let keeper = Keel.taskIndex(named: "keeper").map { Keel.task($0).isRunning } ?? false
    let sleeper = Keel.taskIndex(named: "sleeper").map { Keel.task($0).isRunning } ?? false
    print("containment: keeper running=\(keeper ? "yes" : "no") sleeper running=\(sleeper ? "yes" : "no")")
    if Keel.taskIndex(named: "lingerer") == nil { Keel.shutdown(code: 0) }
}

/// Sleeps for good: with it, the run goes on after the driver's line.
func lingererTask() {
    while true { Keel.sleep(ticks: 1000) }
}

/// 64-byte frames until the stack runs out.
@inline(never)
func recurse(_ depth: UInt32) -> UInt32 {
    var frame = InlineArray<16, UInt32>(repeating: depth)
    guard depth < 1000 else { return depth }
    let below = recurse(depth &+ 1)
    return withUnsafeMutablePointer(to: &frame) { keep($0) } &+ below
}

@inline(never)
func keep(_ frame: UnsafeMutablePointer<InlineArray<16, UInt32>>) -> UInt32 {
    frame.pointee[Int(frame.pointee[0] % 16)]
}

/// One 1280-byte buffer in a 1024-byte stack, written from its lowest word up: the first
/// store lands ~300 bytes below the stack, past a 32-byte guard.
@inline(never)
func lowestFirst() -> UInt32 {
    var buffer = InlineArray<320, UInt32>(repeating: 0)
    return withUnsafeMutablePointer(to: &buffer) { pointer in
        let words = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt32.self)
        var index = 0
        while index < 320 { words[index] = UInt32(index); index += 1 }
        return words[100] &+ words[319]
    }
}

/// Small frames until SP is below `floor`, then a switch there: T5 sees SP below the stack.
@inline(never)
func dip(until floor: UInt32) -> UInt32 {
    var here = stackPointer()
    if here > floor {
        return dip(until: floor) &+ withUnsafeMutablePointer(to: &here) { observe($0) }
    }
    Keel.yield()
    return 0
}

@inline(never)
func observe(_ value: UnsafeMutablePointer<UInt32>) -> UInt32 { value.pointee & 1 }

@inline(never)
func stackPointer() -> UInt32 {
    var probe: UInt32 = 0
    return withUnsafeMutablePointer(to: &probe) { UInt32(UInt(bitPattern: $0)) }
}
