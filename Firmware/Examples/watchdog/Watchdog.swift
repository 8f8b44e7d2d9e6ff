// The task watchdog: `sampler` and `stuck` each declare a deadline ("deadline_ms") and check
// in within it. After five rounds `stuck` waits on something that never comes, as a task
// blocked on a lost reply would; it stops checking in, the kernel stops feeding the board's
// watchdog, and about 100 ms later the watchdog's NMI resets the board with a record naming
// `stuck`. The next boot says so (`previous boot: ... stuck`) and ends the run.
import Keel

func samplerTask() {
    if Keel.resetsSincePowerOn > 0 {
        print("watchdog: the board was reset \(Keel.resetsSincePowerOn) time(s); the record above names the task")
        Keel.shutdown(code: 0)
    }
    while true {
        Keel.checkIn()
        Keel.sleep(milliseconds: 10)
    }
}

func stuckTask() {
    for round in 1...5 {
        Keel.checkIn()
        print("stuck: round \(round), checked in at \(Keel.milliseconds) ms")
        Keel.sleep(milliseconds: 20)
    }
    print("stuck: now waiting for a notification that never comes")
    _ = try? Keel.waitForNotification()
}
