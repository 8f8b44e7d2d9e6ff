// The API tasks call: yield, sleep, exit, time, interrupts, and what a task may ask about itself.
//
// Every declaration says whether it blocks, where it may be called from (a task, an
// interrupt handler attached with `attachInterrupt`, or both), and its stack cost class:
// "leaf" (no call beyond a few instructions), "switch" (may switch tasks: the hardware
// pushes one exception frame, 32 bytes, on the caller's stack) or the bytes it adds.
// The services (queues, semaphores, mutexes, notifications, timeouts) are in Services/, the
// log in Log.swift; `Docs/services.md` sets the whole API beside Zephyr's and FreeRTOS's.
// Naming rule: a call that can block takes a `timeout:` (or, for `sleep`, a time) and is for
// tasks only; every other call never blocks (each says where it may be called from; the
// services' non-blocking calls all work in an interrupt handler).

public enum Keel {
    /// Gives the CPU to the next ready task of the same priority (keeps it when there is none).
    /// Blocks: no (the task stays ready). From: a task. Stack: switch.
    @inline(__always)
    public static func yield() { Processor.requestContextSwitch() }

    /// Sleeps for at least `ticks` ticks of the kernel's tick (0 only yields).
    /// Blocks: yes. From: a task. Stack: switch.
    public static func sleep(ticks: UInt32) { Time.sleep(ticks: ticks) }

    /// Sleeps until the tick count reaches `deadline` (wrap-safe). A deadline already past
    /// only yields. For drift-free periodic work: `next &+= period; Keel.sleep(until: next)`.
    /// Blocks: yes. From: a task. Stack: switch.
    public static func sleep(until deadline: UInt32) { Time.sleep(until: deadline) }

    /// Sleeps for at least `milliseconds`, rounded up to whole ticks (no tick: only yields).
    /// Blocks: yes. From: a task. Stack: switch.
    public static func sleep(milliseconds: UInt32) { Time.sleep(ticks: Time.ticks(forMilliseconds: milliseconds)) }

    /// Milliseconds since the kernel started, at the tick's resolution (0 without a tick).
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static var milliseconds: UInt32 { Time.milliseconds }

    /// Runs `body` as the kernel runs its own critical sections: no task switch and no
    /// handler attached with `attachInterrupt` can come between its instructions. On ARMv7-M
    /// and ARMv8-M Mainline that is BASEPRI at the kernel's ceiling (0x40): the zero-latency
    /// interrupts of the manifest still run in it, so it does not protect data they share (use
    /// `withAllInterruptsMasked` for that). On ARMv6-M it is PRIMASK: every interrupt waits.
    /// Nests. Keep it short. Blocks: no (and `body` must not). From: anywhere but a
    /// zero-latency handler. Stack: `body`'s.
    public static func withInterruptsMasked<Result>(_ body: () -> Result) -> Result {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        return body()
    }

    /// Runs `body` with every interrupt masked (PRIMASK), the zero-latency ones too: for data
    /// a task or handler shares with a zero-latency handler. Nests. Keep it shorter still: it
    /// delays the interrupts the kernel never does. Blocks: no. From: anywhere. Stack: `body`'s.
    public static func withAllInterruptsMasked<Result>(_ body: () -> Result) -> Result {
        let interrupts = portMaskAllInterrupts()
        defer { portRestoreAllInterrupts(interrupts) }
        return body()
    }

    /// Ends the calling task; the others keep running. Never returns.
    /// From: a task. Stack: switch.
    public static func exit() -> Never {
        if Processor.isInHandlerMode { Faults.refuseBlocking() }  // a handler is no task to end
        Scheduler.stopRunning(state: .exited)
        while true { Processor.waitForInterrupt() }  // not reached: the task is never resumed
    }

    /// Ticks since the kernel started (wraps after 2^32), read with one volatile load: the
    /// tick changes it behind the caller's back, so a loop waiting for it sees every change.
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static var ticks: UInt32 {
        Register(address: withUnsafeMutablePointer(to: &tickCount) { UInt(bitPattern: $0) }).read()
    }

    /// Sleeps the idle task made with the tick stopped (tickless idle, TicklessIdle.swift):
    /// 0 with keel.json's `"tickless": false` or `tick_hz` 0.
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static var ticklessSleeps: UInt32 {
        Register(address: withUnsafeMutablePointer(to: &tickless.sleeps) { UInt(bitPattern: $0) }).read()
    }

    /// Ticks that passed while the idle task slept with the tick stopped, counted when it woke
    /// rather than one interrupt each. `ticks - ticksSlept` is about the tick interrupts taken.
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static var ticksSlept: UInt32 {
        Register(address: withUnsafeMutablePointer(to: &tickless.ticksSlept) { UInt(bitPattern: $0) }).read()
    }

    /// Bytes of the calling task's stack written so far (its paint must be on).
    /// Blocks: no. From: a task. Stack: leaf (reads the paint word by word).
    public static var highWaterMark: UInt32 { StackPainting.highWaterMark(currentTask.unsafelyUnwrapped) }

    /// Lowest address of the calling task's stack. Blocks: no. From: a task. Stack: leaf.
    public static var stackBottom: UInt32 { currentTask.unsafelyUnwrapped.pointee.stackBottom }

    /// Resets the kernel made since power-on (after a fault whose policy is `reset`); 0 after
    /// a cold boot. Blocks: no. From: anywhere. Stack: leaf.
    public static var resetsSincePowerOn: UInt32 { PreviousBoot.resets }

    /// Runs `handler` for device interrupt line `irq` (0 up to the board's lines, `keel boards`)
    /// at `priority`, lower is more urgent: from the kernel's ceiling (0x40) to 0xFE on ARMv7-M
    /// and ARMv8-M Mainline, 1...254 on ARMv6-M (the faults are 0, the kernel's tick and switch
    /// 255). Such a handler may call the kernel's non-blocking calls. A more urgent one is a
    /// zero-latency interrupt, declared in keel.json ("zero_latency_interrupts"), not here:
    /// asked for here it is refused like a line the board does not have. The handler runs on
    /// the handler stack. The console UART's lines are refused while the console runs by
    /// interrupt (keel.json's "console"; `keel boards` lists them). Blocks: no. From: a task. Stack: leaf.
    public static func attachInterrupt(_ irq: Int, priority: UInt8 = 0x80, _ handler: @escaping @convention(c) () -> Void) {
        if Console.holdsLine(irq) { DeviceInterrupts.refuseConsoleLine(irq) }
        DeviceInterrupts.attach(irq, priority: priority, handler)
    }

    /// Tells the watchdog the calling task is alive. A task that declares `"deadline_ms": N`
    /// in keel.json must call it at least every N milliseconds, or the board resets with a
    /// record naming it (boards with a watchdog: `keel boards`). Does nothing for a task
    /// without a deadline or on a board without a watchdog. Blocks: no. From: a task. Stack: leaf.
    public static func checkIn() {
        #if KEEL_WATCHDOG_CMSDK
        Watchdog.checkIn(currentTask.unsafelyUnwrapped)
        #endif
    }

    /// Console lines dropped since boot because the transmit ring was full where the writer
    /// could not wait for room (a handler, or interrupts masked; a task waits instead). The run's
    /// end reports it too. Blocks: no. From: anywhere. Stack: leaf.
    public static var consoleDroppedLines: UInt32 {
        Register(address: withUnsafeMutablePointer(to: &consoleRing.droppedLines) { UInt(bitPattern: $0) }).read()
    }

    /// Makes interrupt `irq` pending, as its device would. Blocks: no. From: anywhere. Stack: leaf.
    public static func triggerInterrupt(_ irq: Int) { DeviceInterrupts.pend(irq) }

    /// Runs `body` with memory protection off and interrupts masked. For diagnostics that must
    /// read other tasks' stacks (which T2 makes unreadable); never for normal work.
    /// Blocks: no (and `body` must not). From: a task. Stack: `body`'s.
    public static func withMemoryProtectionOff<Result>(_ body: () -> Result) -> Result { MPU.withProtectionOff(body) }

    /// The application's tasks (the idle task excluded), most urgent first.
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static var taskCount: Int { scheduler.taskCount &- 1 }

    /// Where a task's stack is and whether it still runs; for diagnostics and tests.
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static func task(_ index: Int) -> TaskInfo {
        let task = Scheduler.task(index)
        return TaskInfo(name: task.pointee.name, guardBottom: task.pointee.guardBottom, stackBottom: task.pointee.stackBottom,
                        stackTop: task.pointee.stackTop, isRunning: task.pointee.isLive,
                        wasKilled: task.pointee.state == .killed)
    }

    /// The index of the task called `name`, if there is one. Blocks: no. From: anywhere. Stack: leaf.
    public static func taskIndex(named name: StaticString) -> Int? {
        for index in 0..<taskCount where equal(Scheduler.task(index).pointee.name, name) { return index }
        return nil
    }

    private static func equal(_ a: StaticString, _ b: StaticString) -> Bool {
        a.withUTF8Buffer { x in b.withUTF8Buffer { y in x.count == y.count && (0..<x.count).allSatisfy { x[$0] == y[$0] } } }
    }

    #if KEEL_SPLIT_STACK
    /// The calling task's segments: what it holds now, its peaks, splits and pool allocations.
    /// (Read with interrupts masked: one consistent snapshot, and the port call tells the
    /// compiler that memory may have changed, which `__morestack` does behind its back.)
    /// Blocks: no. From: a task. Stack: leaf.
    public static var segments: SegmentInfo {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        return SegmentedStacks.info(currentTask.unsafelyUnwrapped)
    }

    /// The segment pool's accounting (free bytes, lowest free, allocations, segments kept).
    /// Blocks: no. From: anywhere. Stack: leaf.
    public static var segmentPool: SegmentPoolInfo {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        return SegmentedStacks.poolInfo
    }
    #endif

    /// Gives back to the segment pool the segments the calling task keeps above the one in
    /// use, and what its first segment grew by in place (below its stack now, less the
    /// slack), as waiting does; the next call across the old boundary grows or splits again. For a task that knows it is back from a deep phase and will
    /// not wait for a while. Does nothing in an image without segmented stacks.
    /// Blocks: no. From: a task.
    public static func returnStackGrowth() {
        #if KEEL_SPLIT_STACK
        let interrupts = Interrupts.mask()
        // Below the SP here lie this call's own frames: keep 128 bytes of room for them.
        SegmentedStacks.returnUnused(currentTask.unsafelyUnwrapped, stackPointer: portProcessStack() &- 128)
        Interrupts.restore(interrupts)
        #endif
    }

    /// Splits of the calling task so far (0 in an image without split-stack code), read
    /// without a call, so reading it cannot split. Blocks: no. From: a task. Stack: leaf.
    @inline(__always)
    public static var splitCount: UInt32 {
        #if KEEL_SPLIT_STACK
        SegmentedStacks.observe { UnsafeMutableRawPointer(&$0.pointee.splits) }
        #else
        0
        #endif
    }

    /// Segments the calling task holds now (1: only its first), those it keeps above the one
    /// in use included, read without a call.
    /// Blocks: no. From: a task. Stack: leaf.
    @inline(__always)
    public static var segmentCount: UInt32 {
        #if KEEL_SPLIT_STACK
        SegmentedStacks.observe { UnsafeMutableRawPointer(&$0.pointee.segments) }
        #else
        1
        #endif
    }

    /// Ends the whole run now with `code` (after printing the stack report). Never returns.
    /// From: a task. Stack: the report's (on the caller's stack, with interrupts masked).
    public static func shutdown(code: UInt32) -> Never { Shutdown.run(code: code) }
}

/// One task as `Keel.task(_:)` describes it.
public struct TaskInfo {
    public var name: StaticString
    /// Lowest address of the task's MPU guard (T3); equal to `stackBottom` without one.
    public var guardBottom: UInt32
    public var stackBottom: UInt32
    public var stackTop: UInt32
    /// False once the task exited or was killed.
    public var isRunning: Bool
    /// True when the kernel stopped the task after a fault.
    public var wasKilled: Bool
}
