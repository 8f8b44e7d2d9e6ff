// Shutdown: the stack report printed when every task has finished, then the run's end.
//
// One "keel:stack" record per task (name, size, high-water mark, protections, final state),
// which `keel run` turns into a table. The idle task calls this once no task is left.

enum Shutdown {
    static func run(code: UInt32) -> Never {
        _ = Interrupts.mask()
        SysTick.stop()
        // Reading every stack's paint needs the MPU out of the way (T2 blocks other stacks).
        MPU.withProtectionOff {
            for index in 0..<(scheduler.taskCount &- 1) {
                report(Scheduler.task(index))
            }
            #if KEEL_SPLIT_STACK
            SegmentedStacks.report()
            #endif
        }
        Console.write("keel:end code=")
        Console.write(decimal: code)
        Console.write("\n")
        Console.exit(code: code)
    }

    static func report(_ task: TaskPointer) {
        Console.write("keel:stack task=")
        Console.write(task.pointee.name)
        Console.write(" size=")
        Console.write(decimal: task.pointee.stackBytes)
        Console.write(" used=")
        if task.pointee.protections.contains(.painting) {
            Console.write(decimal: StackPainting.highWaterMark(task))
        } else {
            Console.write("?")
        }
        Console.write(" protection=")
        writeProtections(task.pointee.protections)
        if task.pointee.policy.action == .restart {
            Console.write(" restarts=")
            Console.write(decimal: task.pointee.restartTotal)
        }
        Console.write(" state=")
        switch task.pointee.state {
        case .ready, .sleeping: Console.write("running")
        case .exited: Console.write("exited")
        case .killed: Console.write("killed")
        }
        Console.write("\n")
    }

    static func writeProtections(_ protections: Protections) {
        var first = true
        func item(_ flag: Protections, _ name: StaticString) {
            guard protections.contains(flag) else { return }
            if !first { Console.write(",") }
            Console.write(name)
            first = false
        }
        item(.painting, "paint")
        item(.limitRegister, "limit-register")
        item(.mpuRegion, "mpu-region")
        item(.mpuGuard, "mpu-guard")
        item(.redZone, "red-zone")
        item(.stackPointerCheck, "sp-check")
        if first { Console.write("none") }
    }
}

/// The idle task: sleeps the core until an interrupt, and ends the run when no task is left.
func idleTask() {
    while true {
        if Scheduler.liveMask == 0 { Shutdown.run(code: 0) }
        Processor.waitForInterrupt()
    }
}
