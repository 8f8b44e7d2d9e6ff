// What happens after a fault: the manifest's `on_fault` for the task, or a reset for the kernel.
//
//   kill     the task stops for good; its stack is repainted (so its high-water mark and red
//            zone start clean) and every other task runs on.
//   restart  the task starts again from its entry on a fresh stack, at most N times within a
//            window of ticks (the window opens at the first restart); one more fault in the
//            window applies the policy's `then` (kill or reset).
//   reset    the whole system resets; the fault is kept in the reset record and the next
//            boot reports it.

enum FaultPolicy {
    /// Where the fault was handled: the fault handler (the task's hardware frame is on its
    /// stack, PSP points at it), PendSV's switch-out check (its context is saved already), or
    /// the containment of another task's overflow (the task is not running; its stack is
    /// evidence and is not repainted when it is killed).
    enum Origin { case faultHandler, contextSwitch, bystander }

    /// Resets since power-on after which the kernel stops instead: under QEMU a fault that
    /// recurs at every boot would otherwise loop until the host's timeout.
    static let maximumResets: UInt32 = 8

    static func apply(_ fault: FaultReport, to task: TaskPointer, from origin: Origin) {
        Containment.remember(fault, of: task)  // before a repaint erases how far the stack went
        let history = Containment.history(task)
        let policy = Kernel.faultPolicy(of: task)
        var action = policy.action
        if action == .restart {
            let now = tickCount
            let window = policy.windowTicks
            if history.pointee.restartCount == 0 || (window != 0 && now &- history.pointee.restartWindowStart >= window) {
                history.pointee.restartWindowStart = now
                history.pointee.restartCount = 0
            }
            if history.pointee.restartCount >= policy.restarts { action = policy.then }
        }
        switch action {
        case .kill:
            Faults.report(fault, action: "kill")
            kill(task, from: origin)
        case .restart:
            history.pointee.restartCount &+= 1
            history.pointee.restartTotal &+= 1
            Faults.report(fault, action: "restart")
            restart(task, from: origin)
        case .reset:
            resetSystem(fault)
        }
    }

    static func kill(_ task: TaskPointer, from origin: Origin) {
        Scheduler.stop(task, state: .killed)
        if origin == .bystander { return }  // what the overflow wrote stays for the post-mortem
        Detectors.prepare(task)  // repaint: paint, red zone, limits as at the start
        if origin == .faultHandler {
            // PendSV saves PSP next; a PSP inside the stack keeps T5 from reporting the task again.
            portSetProcessStack(task.pointee.stackTop, task.pointee.context.stackLimit)
        }
    }

    static func restart(_ task: TaskPointer, from origin: Origin) {
        Console.discardLine(of: task)
        #if KEEL_MUTEXES
        Mutexes.abandon(heldBy: task)  // the fresh start holds nothing
        #endif
        Kernel.startTask(task)
        if origin == .faultHandler {
            // Return from this fault straight into the fresh frame: the task starts over now.
            portSetProcessStack(task.pointee.context.stackPointer, task.pointee.context.stackLimit)
        }
    }

    /// Keeps the fault for the next boot and resets. Never returns.
    static func resetSystem(_ fault: FaultReport) -> Never {
        if PreviousBoot.resets >= maximumResets {
            Faults.report(fault, action: "halt")
            Console.write("keel:halt reason=reset-loop resets=")
            Console.write(decimal: PreviousBoot.resets)
            Console.write("\n")
            Console.exit(code: 3)
        }
        Faults.report(fault, action: "reset")
        PreviousBoot.keep(fault)
        Processor.requestSystemReset()
    }
}
