// A deadlock of the whole system on purpose: `left` waits for the mutex `second`, which `right`
// holds while it waits for a notification nobody sends, and `listener` waits for one too. With
// no interrupt enabled nothing can wake any of them: the kernel names who waits on what and ends
// the run with code 3 instead of hanging until the host's timeout. (Two tasks locking two
// mutexes in opposite orders never get this far: the second lock throws `.deadlock`, see
// Examples/mutex-cycle.)
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
    _ = try? Keel.waitForNotification()
    print("right: not reached")
}

func listenerTask() {
    _ = try? Keel.waitForNotification()
    print("listener: not reached")
}
