// An interrupt handler that runs closures stored in an array: a call through a register.
// The handler's own address is taken (it is attached), so the analysis's resolution of that
// call, every function whose address the image takes, includes the handler itself. That is
// not a recursion unless the handler can reach its own call: `keel check` says so, as an
// unresolved call, and the manifest's "indirect_calls" names the two closures it runs.
import Keel

nonisolated(unsafe) var actions: [@convention(c) () -> Void] = []
nonisolated(unsafe) var total = 0

func mainTask() {
    actions.append { total += 1 }
    actions.append { total += 2 }
    Keel.attachInterrupt(4) {
        for action in actions { action() }
    }
    Keel.triggerInterrupt(4)
    Keel.triggerInterrupt(4)
    print("stored-closures: total \(total)")
    Keel.shutdown(code: 0)
}
