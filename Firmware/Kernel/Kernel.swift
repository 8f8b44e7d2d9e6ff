// Kernel start-up: turn the build-time task table into running tasks.
//
// `keel build` generates the task table and the storage for the task control blocks from
// the manifest, sorted most urgent first, and calls `Kernel.start` from the reset handler.
// Nothing is allocated: every task's stack and control block has a fixed address.

@_spi(Build) public struct KernelConfiguration {
    var tickHertz: UInt32
    var clockHertz: UInt32
    /// MPU regions programmed once at boot (the layout planner's fixed regions).
    var fixedRegionCount: Int
    /// The region the first of a task's two switch regions is written to.
    var firstSwitchRegion: UInt32
    /// The idle task stops the tick while nothing needs it (keel.json's "tickless").
    var ticklessIdle: Bool
    /// Core clocks per count of the clock that idle sleeps on, as a shift: 0, SysTick's core
    /// clock; more, its reference clock (a board fact: the STM32F4's HCLK / 8, shift 3).
    var sleepClockShift: UInt32

    @_spi(Build) public init(tickHertz: UInt32, clockHertz: UInt32, fixedRegionCount: Int, firstSwitchRegion: UInt32,
                             ticklessIdle: Bool, sleepClockShift: UInt32) {
        self.tickHertz = tickHertz; self.clockHertz = clockHertz
        self.fixedRegionCount = fixedRegionCount; self.firstSwitchRegion = firstSwitchRegion
        self.ticklessIdle = ticklessIdle; self.sleepClockShift = sleepClockShift
    }
}

@_spi(Build) public enum Kernel {
    nonisolated(unsafe) static var configuration = KernelConfiguration(tickHertz: 0, clockHertz: 0, fixedRegionCount: 0, firstSwitchRegion: 0,
                                                                         ticklessIdle: false, sleepClockShift: 0)

    /// Starts the scheduler. `tasks` has room for `descriptors.count + 1` control blocks:
    /// the application's tasks, then the idle task.
    @_spi(Build) public static func start(
        tasks: TaskPointer,
        fixedRegions: UnsafePointer<MPURegionWords>,
        consoleLines: UnsafeMutablePointer<ConsoleLine>,
        histories: UnsafeMutablePointer<TaskHistory>,
        waitConditions: UnsafeMutablePointer<WaitCondition>?,
        console: ConsoleBuffers,
        descriptors: UnsafeBufferPointer<TaskDescriptor>,
        idle: TaskDescriptor,
        configuration: KernelConfiguration
    ) -> Never {
        self.configuration = configuration
        #if KEEL_SEGMENT_GUARD
        // SegmentGuard and MoreStack.S's GUARD write one fixed region number.
        if configuration.firstSwitchRegion != SegmentGuard.regionNumber { fatalError("the segment guard is not the first switch region") }
        #endif
        // Folded away when true; traps at boot if a field change broke the port's offsets or stride.
        PortContract.check()
        precondition(DebugLayout.matchesCompiler, "keel_debug_layout (DebugLayout.swift) is out of date")
        Console.taskLines = consoleLines
        Containment.histories = histories
        Waiting.conditionTable = waitConditions
        scheduler.tasks = tasks
        scheduler.taskCount = descriptors.count &+ 1
        for index in 0..<scheduler.taskCount {
            let descriptor = index < descriptors.count ? descriptors[index] : idle
            let task = tasks + index
            task.initialize(to: TaskControlBlock())
            (histories + index).initialize(to: TaskHistory())
            histories[index].guardBottom = descriptor.guardBottom
            task.pointee.index = UInt8(truncatingIfNeeded: index)
            task.pointee.holderTag = UInt32(truncatingIfNeeded: index) &+ 1
            task.pointee.name = descriptor.name
            task.pointee.priority = descriptor.priority
            task.pointee.stackBottom = descriptor.stackBottom
            task.pointee.stackTop = descriptor.stackTop
            task.pointee.protections = descriptor.protections
            task.pointee.redZoneEnd = descriptor.stackBottom &+ descriptor.redZoneBytes
            task.pointee.context.switchRegions = descriptor.switchRegions
        }
        // Each task's bit in the scheduler's masks: its rank, the table's order at start.
        Ranks.assignInTableOrder()
        for index in 0..<scheduler.taskCount { startTask(tasks + index) }
        Exceptions.configurePriorities()
        // Stacks are painted and framed by now; from here on the MPU guards them.
        MPU.configure(fixed: fixedRegions, count: configuration.fixedRegionCount,
                      firstSwitchRegion: configuration.firstSwitchRegion)
        if configuration.tickHertz > 0 {
            SysTick.start(clockHertz: configuration.clockHertz, tickHertz: configuration.tickHertz)
        }
        // The first task to run is the most urgent; pick it the same way PendSV will.
        currentTask = Scheduler.pickNext()
        // From here on a task's line is queued and sent by the UART's interrupt.
        Console.startInterrupts(console)
        #if KEEL_WATCHDOG_CMSDK
        Watchdog.start()
        #endif
        #if KEEL_SPLIT_STACK
        SegmentedStacks.runningTaskChanged(currentTask.unsafelyUnwrapped)
        #endif
        portStartFirstTask()
        while true { Processor.waitForInterrupt() }  // not reached: the SVC never returns here
    }

    /// Sets up a zero-latency interrupt of the manifest (its priority, its enable); called by
    /// the generated start code before `start`.
    @_spi(Build) public static func enableZeroLatencyInterrupt(_ irq: Int, priority: UInt8) {
        DeviceInterrupts.enableZeroLatency(irq, priority: priority)
    }

    /// (Re)starts a task from its entry on a fresh stack.
    static func startTask(_ task: TaskPointer) {
        Detectors.prepare(task)
        let top = task.pointee.stackTop
        // The exception frame the first exception return pops (ARMv7-M B1.5.6):
        // r0-r3, r12, lr, pc, xPSR. Returning from the entry lands in `keelTaskReturned`.
        let frame = top &- 32
        let entry = UInt32(UInt(bitPattern: unsafeBitCast(applicationTaskEntry(Int(task.pointee.index)), to: UnsafeRawPointer.self)))
        let exit = UInt32(UInt(bitPattern: unsafeBitCast(keelTaskReturned as TaskEntry, to: UnsafeRawPointer.self)))
        for word in 0..<5 { Memory.storeWord(frame &+ UInt32(word) &* 4, 0) }
        Memory.storeWord(frame &+ 20, exit)
        Memory.storeWord(frame &+ 24, entry & ~1)        // PC: the Thumb bit lives in xPSR, not here
        Memory.storeWord(frame &+ 28, 0x0100_0000)       // xPSR: T bit set
        task.pointee.context.stackPointer = frame
        task.pointee.context.exceptionReturn = SavedContext.threadReturn  // its first frame is a basic one
        task.pointee.notifications = 0
        #if KEEL_WATCHDOG_CMSDK
        Watchdog.checkIn(task)  // a (re)started task has its whole deadline ahead
        #endif
        scheduler.live |= task.pointee.bit
        Scheduler.makeReady(task)  // also ends a wait the task was in when it faulted
    }
}

/// Task `index`'s fault policy (the manifest's `on_fault`; idle's is the default, kill), from
/// the generated code: only a fault reads it, and the control block has no word to spare.
@_silgen_name("keel_fault_policy")
func applicationFaultPolicy(_ index: Int) -> FaultPolicyDescriptor

extension Kernel {
    /// What to do when `task` faults.
    static func faultPolicy(of task: TaskPointer) -> FaultPolicyDescriptor { applicationFaultPolicy(Int(task.pointee.index)) }
}

/// Task `index`'s entry function (idle's for the last index), from the generated task table:
/// the task control block has no word to spare for it, and only a start reads it.
@_extern(c, "keel_task_entry")
func applicationTaskEntry(_ index: Int) -> TaskEntry

/// Where a task's entry function returns to: the task has finished.
@_cdecl("keel_task_returned")
func keelTaskReturned() {
    Keel.exit()
}
