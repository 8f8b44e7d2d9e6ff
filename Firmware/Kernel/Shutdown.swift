// Shutdown: the stack report printed when every task has finished, then the run's end.
//
// One "keel:stack" record per task (name, size, high-water mark, protections, final state),
// which `keel run` turns into a table. The idle task calls this once no task is left.

enum Shutdown {
    static func run(code: UInt32) -> Never {
        _ = Interrupts.mask()
        SysTick.stop()
        RTTLog.drain()  // a host reading the log in block mode gets the last record first
        #if KEEL_MUTEXES
        RefusedCycle.printIfKept()  // a refused lock the tick had no time to report
        #endif
        // Reading every stack's paint needs the MPU out of the way (T2 blocks other stacks).
        MPU.withProtectionOff {
            for index in 0..<(scheduler.taskCount &- 1) {
                report(Scheduler.task(index))
            }
            reportHandlerStack()
            #if KEEL_SPLIT_STACK
            SegmentedStacks.report()
            #endif
        }
        reportConsoleLoss()
        Console.write("keel:end code=")
        Console.write(decimal: code)
        Console.write("\n")
        Console.exit(code: code)
    }

    /// What the console lost, when it lost anything: the lines a full ring dropped, the
    /// received bytes a full input buffer dropped, the log records a full RTT channel dropped.
    static func reportConsoleLoss() {
        let droppedLog = RTTLog.droppedRecords
        guard consoleRing.droppedLines != 0 || consoleInputDropped != 0 || droppedLog != 0 else { return }
        Console.write("keel:console dropped_lines=")
        Console.write(decimal: consoleRing.droppedLines)
        Console.write(" dropped_input=")
        Console.write(decimal: consoleInputDropped)
        if droppedLog != 0 {
            Console.write(" dropped_log=")
            Console.write(decimal: droppedLog)
        }
        Console.write("\n")
    }

    static func report(_ task: TaskPointer) {
        Console.write("keel:stack task=")
        Console.write(task.pointee.name)
        Console.write(" size=")
        Console.write(decimal: task.pointee.stackBytes)
        // The most the stack was ever used: now, or before a restart or kill repainted it.
        let history = Containment.history(task).pointee
        Console.write(" used=")
        if task.pointee.protections.contains(.painting) {
            Console.write(decimal: max(StackPainting.highWaterMark(task), history.highWater))
        } else {
            Console.write("?")
        }
        if history.overflows > 0 {
            Console.write(" overflows=")
            Console.write(decimal: UInt32(history.overflows))
            Console.write(" overflow=")
            Console.write(decimal: history.overflowBytes)
        }
        if history.harmedBy != 0 {
            Console.write(" by=")
            Console.write(Scheduler.task(Int(history.harmedBy &- 1)).pointee.name)
        }
        if history.faults > 0 {
            Console.write(" faults=")
            Console.write(decimal: UInt32(history.faults))
        }
        Console.write(" protection=")
        writeProtections(task.pointee.protections, segmentGuard: SegmentGuard.covers(task))
        if Kernel.faultPolicy(of: task).action == .restart {
            Console.write(" restarts=")
            Console.write(decimal: history.restartTotal)
        }
        Console.write(" state=")
        switch task.pointee.state {
        case .ready, .sleeping, .blocked: Console.write(task.pointee.waitingOn == nil ? "running" : "waiting")
        case .exited: Console.write("exited")
        case .killed: Console.write("killed")
        case .suspended: Console.write("suspended")
        }
        Console.write("\n")
    }

    /// The handler stack's row: painted at boot, shared by the kernel and every handler.
    static func reportHandlerStack() {
        let bottom = linkerSymbol(mainStackBottom), top = linkerSymbol(mainStackTop)
        var address = bottom
        while address < top && Memory.loadWord(address) == stackPaintWord { address &+= 4 }
        Console.write("keel:stack task=handler size=")
        Console.write(decimal: top &- bottom)
        Console.write(" used=")
        Console.write(decimal: top &- address)
        Console.write(" protection=")
        #if KEEL_ARMV8M
        Console.write("limit-register")
        #elseif KEEL_MPU
        Console.write("mpu-guard")
        #else
        Console.write("none")
        #endif
        Console.write(" state=running\n")
    }

    /// The task's techniques by name; `segmentGuard`: a segmented task under the M3's segment
    /// guard, which is the image's, not a protection the task named.
    static func writeProtections(_ protections: Protections, segmentGuard: Bool) {
        var first = true
        var index = 0
        while let (flag, name) = Protections.named(index) {
            index += 1
            guard protections.contains(flag) else { continue }
            if !first { Console.write(",") }
            Console.write(name)
            first = false
        }
        if segmentGuard {
            if !first { Console.write(",") }
            Console.write("segment-guard")
            first = false
        }
        if first { Console.write("none") }
    }
}

/// The idle task's entry under its fixed C name (the generated table names it).
@_cdecl("keel_entry_idle")
func idleTaskEntry() { idleTask() }

/// The idle task: sleeps the core until an interrupt (with the tick stopped while nothing
/// needs it: TicklessIdle.swift), and ends the run when no task is left or when the ones left
/// can never run again (a deadlock).
func idleTask() {
    let stopsTheTick = Kernel.configuration.ticklessIdle && Kernel.configuration.tickHertz > 0
    while true {
        if Scheduler.liveMask == 0 { Shutdown.run(code: 0) }
        if Deadlock.found { Deadlock.report() }
        #if KEEL_MUTEXES
        RefusedCycle.printIfKept()  // without a tick, the idle task reports a refused lock
        #endif
        if stopsTheTick { TicklessIdle.sleep() } else { Processor.waitForInterrupt() }
    }
}

/// Every task left waits without a timeout (or is suspended), and nothing can wake one: no
/// task is ready or sleeping (only those could give or send) and no interrupt line that could
/// is enabled (the console's transmit line only drains its ring). The run would hang; the
/// kernel says who waits on what instead and ends it with code 3.
enum Deadlock {
    static var found: Bool {
        let interrupts = Interrupts.mask()
        defer { Interrupts.restore(interrupts) }
        // Tasks are left, and all of them wait with no timeout (idle is never in liveMask).
        let live = Scheduler.liveMask
        return live != 0 && live & (scheduler.ready | scheduler.sleeping) == 0 && !wakingLineEnabled
    }

    /// Some enabled interrupt line's handler could wake a task: any line but the console's
    /// transmit-only one.
    static var wakingLineEnabled: Bool {
        let transmitOnly = Console.transmitOnlyLine
        for word in 0..<(NVIC.lines &+ 31) / 32 {
            var enabled = Register(address: NVIC.setEnable.address &+ UInt(word) &* 4).read()
            if transmitOnly >= 0 && transmitOnly / 32 == word { enabled &= ~(1 &<< UInt32(transmitOnly % 32)) }
            if enabled != 0 { return true }
        }
        return false
    }

    static func report() -> Never {
        _ = Interrupts.mask()
        var blocked = Scheduler.liveMask  // all of them wait forever (`found`)
        while blocked != 0 {
            let task = Scheduler.task(lowestBitOf: blocked)
            blocked &= blocked &- 1
            Console.write("deadlock: '")
            Console.write(task.pointee.name)
            if let mutex = Mutexes.mutexWaitedOn(by: task) {
                Console.write("' waits for mutex '")
                RefusedCycle.writeName(of: mutex)
                Console.write("' held by '")
                Console.write(Mutexes.holder(waitedOnBy: task).pointee.name)
                Console.write("'\n")
            } else if task.pointee.state == .suspended {
                Console.write("' is suspended, and no task is left to resume it\n")
            } else if task.pointee.waitingOn == withUnsafeMutablePointer(to: &scheduler.notificationWaiters, { $0 }) {
                Console.write("' waits for a notification\n")
            } else {
                Console.write("' waits on a queue or semaphore\n")
            }
        }
        Shutdown.run(code: 3)
    }
}
