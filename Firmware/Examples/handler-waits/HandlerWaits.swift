// Four calls that can block, made from two interrupt handlers: a mistake on purpose, for the
// stack check. `keel check` lists all four at once, each with its call chain (a handler has
// no task to park: at run time the first one reached would reset the system). Nothing here
// attaches the handlers at run time, so the image boots, logs and ends.
import Keel

/// A helper of the application that waits: its caller's chain goes through it.
func settle() {
    Keel.sleep(ticks: 1)  // wrong in a handler: sleeping parks a task
}

func mainTask() {
    if Keel.ticks == UInt32.max {  // never: the handlers are attached only for the analysis to see
        Keel.attachInterrupt(4) {
            try? signal.take(timeout: .ticks(10))          // wrong: blocks
            _ = try? samples.receive(timeout: .ticks(1))   // wrong: blocks
        }
        Keel.attachInterrupt(3) {
            try? bus.withLock { samples.trySend(1) }       // wrong: a lock can block
            settle()
        }
    }
    print("handler-waits: nothing attached, nothing blocked")
    Keel.shutdown(code: 0)
}
