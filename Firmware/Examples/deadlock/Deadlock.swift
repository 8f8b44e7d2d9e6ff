// A deadlock on purpose: `left` takes `first` then `second`, `right` the other way round,
// and `listener` waits for a notification nobody sends. With no interrupt enabled nothing can
// wake any of them: the kernel names who waits on what and ends the run with code 3 instead
// of hanging until the host's timeout.
import Keel

func leftTask() {
    try? first.lock()
    Keel.sleep(ticks: 2)
    try? second.lock()
    print("left: not reached")
}

func rightTask() {
    try? second.lock()
    Keel.sleep(ticks: 2)
    try? first.lock()
    print("right: not reached")
}

func listenerTask() {
    _ = try? Keel.waitForNotification()
    print("listener: not reached")
}
