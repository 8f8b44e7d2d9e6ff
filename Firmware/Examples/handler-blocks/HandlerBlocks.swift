// Two mistakes on purpose, one per boot.
// First boot: an interrupt handler makes a call that can block. `keel check` names the call
// chain; at run time the kernel resets with a `blocking-in-handler` record.
// Second boot: a task makes a blocking call inside `Keel.withInterruptsMasked`, where no
// switch can happen. The task is stopped (`blocking-with-interrupts-masked`), and the masking
// does not outlive it: `after` still gets its ticks and ends the run.
import Keel

func mainTask() {
    if Keel.resetsSincePowerOn == 0 {
        Keel.attachInterrupt(4) {
            try? signal.take(timeout: .ticks(10))  // wrong: a handler has no task to wait
        }
        Keel.triggerInterrupt(4)
        print("not reached: the handler's wait resets the system")
    } else {
        Keel.withInterruptsMasked {
            try? signal.take(timeout: .ticks(10))  // wrong: nothing can switch while masked
        }
        print("not reached: the masked wait stops the task")
    }
}

func afterTask() {
    let start = Keel.ticks
    Keel.sleep(ticks: 5)
    print("after: slept \(Keel.ticks &- start) ticks, interrupts work after the stopped task")
    Keel.shutdown(code: 0)
}
