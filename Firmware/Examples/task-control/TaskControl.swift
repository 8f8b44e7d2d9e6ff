// Task control: a suspended task does not run, whatever wakes it; a wait it was in goes on
// after `resume`, with its deadline kept; a handler suspends and resumes too; a task
// suspends itself; and `status` says what each task is doing.
//
// `worker` (most urgent) waits on `go` and logs what it got and when; `controller` drives and
// prints; `spinner` (least urgent) only counts.

import Keel
import Synchronization

/// The spinner's count: atomic, so its loop really stores every increment.
let spins = Atomic<UInt32>(0)
nonisolated(unsafe) var workerLog = InlineArray<4, UInt32>(repeating: 0)
nonisolated(unsafe) var workerSteps = 0

func spinnerTask() {
    while true { spins.add(1, ordering: .relaxed) }
}

func workerTask() {
    // 1. Waits for `go` (suspended meanwhile, and `go` given then): takes it once resumed.
    try? go.take()
    workerLog[0] = Keel.ticks
    // 2. Waits 20 ticks for a `go` that never comes; suspended and resumed in between.
    let start = Keel.ticks
    let timedOut = (try? go.take(timeout: .ticks(20))) == nil
    workerLog[1] = timedOut ? Keel.ticks &- start : 9999
    // 3. Suspends itself; runs on when resumed.
    Keel.runningTask.suspend()
    workerLog[2] = Keel.ticks
    workerSteps = 3
    try? go.take()  // waits for good: shows as waiting at the end
}

func status(_ task: TaskHandle) -> StaticString {
    switch task.status {
    case .ready: "ready"
    case .waiting: "waiting"
    case .suspended: "suspended"
    case .exited: "exited"
    case .killed: "killed"
    }
}

func controllerTask() {
    runChecks()
    Keel.shutdown(code: 0)
}

@inline(never)
func runChecks() {
    Keel.sleep(ticks: 1)
    print("control: worker \(status(Tasks.worker)), spinner \(status(Tasks.spinner)), controller \(status(Keel.runningTask))")

    // A suspended task does not run: the spinner's count stands still.
    Tasks.spinner.suspend()
    let before = spins.load(ordering: .relaxed)
    Keel.sleep(ticks: 5)
    print("control: spinner \(status(Tasks.spinner)), counted \(spins.load(ordering: .relaxed) &- before) in 5 ticks")
    Tasks.spinner.resume()
    Keel.sleep(ticks: 5)
    print("control: spinner \(status(Tasks.spinner)) again, counting \(spins.load(ordering: .relaxed) != before)")

    // 1. The worker waits on `go`; suspended, it is not woken by a give.
    Tasks.worker.suspend()
    go.give()
    Keel.sleep(ticks: 3)
    print("control: worker \(status(Tasks.worker)) with go given, count \(go.count)")
    let resumedAt = Keel.ticks
    Tasks.worker.resume()  // more urgent: takes `go` before this line's next
    print("control: worker took go at +\(workerLog[0] &- resumedAt) after resume, count \(go.count)")

    // 2. Its 20-tick wait, suspended at +5 and resumed at +10: it still ends at +20.
    Keel.sleep(ticks: 5)
    Tasks.worker.suspend()
    Keel.sleep(ticks: 5)
    Tasks.worker.resume()
    Keel.sleep(ticks: 15)
    print("control: a wait suspended and resumed timed out after \(workerLog[1]) of 20")

    // 3. The worker suspended itself; a handler resumes it.
    print("control: worker \(status(Tasks.worker)) by itself")
    Keel.attachInterrupt(6) { Tasks.worker.resume() }
    let raisedAt = Keel.ticks
    Keel.triggerInterrupt(6)
    print("control: a handler resumed it: ran at +\(workerLog[2] &- raisedAt), step \(workerSteps), now \(status(Tasks.worker))")

    // A handler suspends too; resuming a task that is not suspended changes nothing.
    Keel.attachInterrupt(7) { Tasks.spinner.suspend() }
    Keel.triggerInterrupt(7)
    Tasks.worker.resume()
    print("control: spinner \(status(Tasks.spinner)) by a handler, worker still \(status(Tasks.worker))")
}
