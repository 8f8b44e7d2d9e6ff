// A mistake on purpose: an interrupt handler makes a call that can block. `keel check` names
// the call chain; at run time the kernel resets with a `blocking-in-handler` record.
import Keel

func mainTask() {
    if Keel.resetsSincePowerOn > 0 { Keel.shutdown(code: 0) }  // reported once is enough
    Keel.attachInterrupt(2) {
        try? signal.take(timeout: .ticks(10))  // wrong: a handler has no task to wait
    }
    Keel.triggerInterrupt(2)
    print("not reached: the handler's wait resets the system")
}
