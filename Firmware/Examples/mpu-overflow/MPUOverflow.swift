// Every way a stack can overflow, one at a time, with a byte-exact check of everything else.
// The fault matrix (`keel faults`) runs this image with every technique on every board.
//
// In RAM, from the bottom: `floor` (a bystander that only sleeps, so that the lowest
// scenario's overflow meets a task's stack rather than the end of RAM), the scenario tasks
// in manifest order, `checker` last. Written to overflow: "stack_check" is "warn".
//
// `checker` (most urgent, never protected) starts one scenario task at a time and waits for
// it to be stopped. Before each start it copies every byte of the stack area except the
// scenario's own stack and the live tops of the other stacks; afterwards it compares and
// prints `keel-test:scenario=<name> caught=<yes|no> outside-changed=<bytes>
// stopped-unchanged=<tasks>`: the last names every other task the scenario's overflow got
// stopped whose stack is byte for byte what it was (a false victim; `-` when none). The tests
// swap the technique of every scenario task (T1, T2 or T3) and run the same image.
//
// Boot 1 runs the task scenarios, then overflows the handler stack inside an interrupt
// handler: the kernel resets with a record. Boot 2 reports it and runs `resetter`, whose
// policy is `reset`. Boot 3 reports that one and ends the run.
//
// `"stack_check": "warn"`: every scenario task overflows on purpose (endless recursion, a
// frame larger than its stack and guard, an interrupt handler that recurses), so `keel check`
// fails here by design; the build prints the findings and goes on. T3 needs an MPU: the
// example is made for the boards with an MPU ("boards"); `keel faults` runs its own variant of
// it on the micro:bit, every stack shrunk to fit 16 KiB (FaultMatrix.variant).
//
// On a board with an FPU the matrix adds two FP scenario tasks above `relapse` (run right
// after it, so that each overflow meets a stack already done with): `fpframe` waits for the
// tick where an extended frame (108 bytes) crosses its stack's bottom though a basic one
// would fit; `fplazy`, behind a 32-byte guard and a 16-byte red zone (what `keel check`
// flags for an FP task), waits where the tick's frame jumps both, so that what overflows
// is the lazy FP state the switch makes the hardware write into the reserved part. The
// example as written has neither; `run` skips a scenario the image does not have.

import Keel

nonisolated(unsafe) var started = InlineArray<16, Bool>(repeating: false)

/// Bytes at the top of every other running stack that may change while a scenario runs
/// (live frames); stopped tasks' stacks must not change at all.
let liveTop: UInt32 = 256

func checkerTask() {
    switch Keel.resetsSincePowerOn {
    case 0:
        for scenario in ["relapse", "fpframe", "fplazy", "deep", "wide", "memset", "preempted", "switching"] as [StaticString] {
            run(scenario)
        }
        print("checker: every task scenario done; now the handler stack")
        Keel.attachInterrupt(4, priority: 0x80) { handlerRecursion(1) }
        Keel.triggerInterrupt(4)
        print("checker: handler overflow not caught")
    case 1:
        print("checker: after the handler's reset")
        run("resetter")
        print("checker: resetter not reset")
    default:
        print("checker: after the task's reset; done")
        Keel.shutdown(code: 0)
    }
}

func floorTask() {
    Keel.sleep(ticks: 1_000_000)
}

func run(_ name: StaticString) {
    guard let index = Keel.taskIndex(named: name) else { return }
    // An earlier scenario's overflow may have stopped this task already (its stack lay below).
    guard Keel.task(index).isRunning else {
        print("keel-test:scenario=\(name) skipped=stopped-before-start")
        return
    }
    var runningBefore = InlineArray<16, Bool>(repeating: false)
    for other in 0..<min(Keel.taskCount, 16) { runningBefore[other] = Keel.task(other).isRunning }
    let snapshot = Snapshot(excluding: index)
    started[index] = true
    var waited: UInt32 = 0
    while Keel.task(index).isRunning && waited < 200 {
        Keel.sleep(ticks: 1)
        waited &+= 1
    }
    // Other tasks stopped meanwhile whose stacks did not change: stopped for nothing.
    var falseVictims = ""
    for other in 0..<min(Keel.taskCount, 16) where other != index && runningBefore[other] && !Keel.task(other).isRunning {
        if snapshot.changedBytes(inStackOf: other) == 0 {
            falseVictims += (falseVictims.isEmpty ? "" : ",") + Keel.task(other).name.description
        }
    }
    let changed = snapshot.changedBytes()
    print("keel-test:scenario=\(name) caught=\(Keel.task(index).wasKilled ? "yes" : "no") outside-changed=\(changed) stopped-unchanged=\(falseVictims.isEmpty ? "-" : falseVictims)")
}

/// Scenario tasks wait (at the top of their stacks) until the checker starts them.
func waitForStart(_ name: StaticString) {
    let me = Keel.taskIndex(named: name) ?? 0
    while !started[me] { Keel.sleep(ticks: 1) }
}

/// A copy of the stack area, for a byte-exact comparison after a scenario.
struct Snapshot {
    let start: UInt32
    let end: UInt32
    let excluded: Int
    let copy: UnsafeMutablePointer<UInt8>

    init(excluding excluded: Int) {
        var low = UInt32.max, high: UInt32 = 0
        for index in 0..<Keel.taskCount {
            let task = Keel.task(index)
            low = min(low, task.guardBottom)
            high = max(high, task.stackTop)
        }
        start = low
        end = high
        self.excluded = excluded
        copy = UnsafeMutablePointer<UInt8>.allocate(capacity: Int(high &- low))
        let (start, end, copy) = (self.start, self.end, self.copy)
        Keel.withMemoryProtectionOff {
            for address in start..<end { copy[Int(address &- start)] = load(address) }
        }
    }

    /// Whether `address` may change for reasons other than an overflow: in the scenario's
    /// stack, the checker's own (it runs while comparing), or the live top of another stack.
    func mayChange(_ address: UInt32) -> Bool {
        let checker = Keel.taskIndex(named: "checker")
        for index in 0..<Keel.taskCount {
            let task = Keel.task(index)
            if (index == excluded || index == checker) && address >= task.stackBottom && address < task.stackTop { return true }
            if task.isRunning && address >= task.stackTop &- liveTop && address < task.stackTop { return true }
        }
        return false
    }

    /// Bytes of task `index`'s stack (and guard) that differ from the copy.
    func changedBytes(inStackOf index: Int) -> Int {
        let task = Keel.task(index)
        var changed = 0
        Keel.withMemoryProtectionOff {
            for address in max(task.guardBottom, start)..<min(task.stackTop, end) where load(address) != copy[Int(address &- start)] {
                changed += 1
            }
        }
        return changed
    }

    func changedBytes() -> Int {
        var changed = 0
        Keel.withMemoryProtectionOff {
            for address in start..<end where load(address) != copy[Int(address &- start)] && !mayChange(address) {
                changed += 1
            }
        }
        copy.deallocate()
        return changed
    }
}

// MARK: The scenarios

func relapseTask() {
    waitForStart("relapse")
    print("relapse: starting (again)")
    let result = recurseYielding(1)  // before the print: a killed task would leak its string
    print("relapse: returned \(result) (not caught)")
}

func deepTask() {
    waitForStart("deep")
    let result = recurse(1)
    print("deep: \(result) (not caught)")
}

func wideTask() {
    waitForStart("wide")
    let result = wide()
    print("wide: \(result) (not caught)")
}

func memsetTask() {
    waitForStart("memset")
    let result = memsetBelow()
    print("memset: \(result) (not caught)")
}

func preemptedTask() {
    waitForStart("preempted")
    let levels = fillUntilNearlyFull(Keel.stackBottom &+ 12)
    print("preempted: not caught (\(levels) levels)")
}

func switchingTask() {
    waitForStart("switching")
    let result = recurseYielding(1)
    print("switching: \(result) (not caught)")
}

/// An FP task (its frames are extended from its first FP instruction on) waits for the tick
/// 80 to 96 bytes above its bottom: the extended frame crosses it, a basic one would not.
func fpFrameTask() {
    waitForStart("fpframe")
    floatingPointState = floatingPointState * 1.25 + 0.5
    let levels = fillUntilNearlyFull(Keel.stackBottom &+ 96)
    print("fpframe: not caught (\(levels) levels, \(floatingPointState))")
}

/// The same 24 to 40 bytes above its bottom: the frame's integer words land below a 32-byte
/// guard (or a 16-byte red zone), its FP words are reserved across it and written by the
/// switch's first FP instruction.
func fpLazyTask() {
    waitForStart("fplazy")
    floatingPointState = floatingPointState * 1.25 + 0.5
    let levels = fillUntilNearlyFull(Keel.stackBottom &+ 40)
    print("fplazy: not caught (\(levels) levels, \(floatingPointState))")
}

nonisolated(unsafe) var floatingPointState: Float = 1.5

func resetterTask() {
    waitForStart("resetter")
    let result = recurse(1)
    print("resetter: \(result) (not caught)")
}

/// 64-byte frames until the stack runs out.
@inline(never)
func recurse(_ depth: UInt32) -> UInt32 {
    var frame = InlineArray<16, UInt32>(repeating: depth)
    guard depth < 1000 else { return depth }
    let below = recurse(depth &+ 1)
    return withUnsafeMutablePointer(to: &frame) { keep($0) } &+ below
}

/// The same, with a context switch at every level: the switch happens at the very edge.
@inline(never)
func recurseYielding(_ depth: UInt32) -> UInt32 {
    var frame = InlineArray<16, UInt32>(repeating: depth)
    Keel.yield()
    guard depth < 1000 else { return depth }
    let below = recurseYielding(depth &+ 1)
    return withUnsafeMutablePointer(to: &frame) { keep($0) } &+ below
}

@inline(never)
func keep(_ frame: UnsafeMutablePointer<InlineArray<16, UInt32>>) -> UInt32 {
    frame.pointee[Int(frame.pointee[0] % 16)]
}

/// One 1280-byte buffer in a 1024-byte stack, written from the top down (as a zeroing loop
/// or a struct initialiser does); it reaches ~350 bytes below the stack, inside a 512-byte guard.
@inline(never)
func wide() -> UInt32 {
    var buffer = InlineArray<320, UInt32>(repeating: 0)
    return withUnsafeMutablePointer(to: &buffer) { pointer in
        let words = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt32.self)
        var index = 320
        while index > 0 { index -= 1; words[index] = UInt32(index) }
        return words[100] &+ words[319]
    }
}

/// The C library's memset (the kernel provides it).
@_extern(c, "memset")
func memset(_ destination: UnsafeMutableRawPointer, _ value: Int32, _ count: Int) -> UnsafeMutableRawPointer

/// memset from a local buffer 64 bytes past the stack's bottom.
@inline(never)
func memsetBelow() -> UInt32 {
    var local: UInt32 = 7
    let below = Keel.stackBottom &- 64
    _ = memset(UnsafeMutableRawPointer(bitPattern: UInt(below)).unsafelyUnwrapped, 0x5A, 96)
    return withUnsafeMutablePointer(to: &local) { $0.pointee }
}

/// Small frames until the stack pointer is within `stop` of the bottom; then wait for the
/// tick there, so the hardware pushes its exception frame across the bottom.
@inline(never)
func fillUntilNearlyFull(_ stop: UInt32) -> UInt32 {
    var here = stackPointer()
    if here > stop {
        // Not a tail call, and the frame is observable: each level keeps its 8-16 bytes.
        return fillUntilNearlyFull(stop) &+ withUnsafeMutablePointer(to: &here) { observe($0) }
    } else {
        // Spin on the tick count with volatile loads and no stack use until the tick comes.
        let tick = Keel.ticks
        while Keel.ticks == tick {}
        return 0
    }
}

@inline(never)
func observe(_ value: UnsafeMutablePointer<UInt32>) -> UInt32 { value.pointee & 1 }

@inline(never)
func stackPointer() -> UInt32 {
    var probe: UInt32 = 0
    return withUnsafeMutablePointer(to: &probe) { UInt32(UInt(bitPattern: $0)) }
}

/// Runs in the interrupt handler on the handler stack: 64-byte frames until it overflows.
@inline(never)
func handlerRecursion(_ depth: UInt32) -> UInt32 {
    var frame = InlineArray<16, UInt32>(repeating: depth)
    guard depth < 10_000 else { return depth }
    let below = handlerRecursion(depth &+ 1)
    return withUnsafeMutablePointer(to: &frame) { keep($0) } &+ below
}

@inline(never)
func load(_ address: UInt32) -> UInt8 {
    UnsafePointer<UInt8>(bitPattern: UInt(address)).unsafelyUnwrapped.pointee
}
