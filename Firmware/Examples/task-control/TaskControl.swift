// Task control: a suspended task does not run, whatever wakes it; a wait it was in goes on
// after `resume`, with its deadline kept; a handler suspends and resumes too; a task
// suspends itself; and `status` says what each task is doing. Then priorities change at run
// time: a waiter raised is woken first, a mutex's holder inherits its waiter's new priority
// at once, and a task raised above the caller runs before the call returns.
//
// `worker` (most urgent) waits on `go` and logs what it got and when; `controller` drives and
// prints; `spinner` (least urgent) only counts; `helper` (least urgent) takes `go` and holds
// `shared` when told.

import Keel
import Synchronization

/// The spinner's count: atomic, so its loop really stores every increment.
let spins = Atomic<UInt32>(0)
nonisolated(unsafe) var workerLog = InlineArray<4, UInt32>(repeating: 0)
nonisolated(unsafe) var workerSteps = 0

/// A priority the spinner gives itself when it sees it (0: none).
let spinnerRequest = Atomic<UInt32>(0)

func spinnerTask() {
    while true {
        spins.add(1, ordering: .relaxed)
        let request = spinnerRequest.exchange(0, ordering: .relaxed)
        if request != 0 { Keel.runningTask.setPriority(UInt8(request)) }
    }
}

/// What the helper has done: 1 took `go`; 2 holds `shared` and sleeps; 3 woke and released it.
let helperStep = Atomic<UInt32>(0)
nonisolated(unsafe) var helperHeldAt: UInt32 = 0

func helperTask() {
    _ = try? Keel.waitForNotification()  // stays out of `go`'s waiters until the priority checks
    try? go.take()
    helperStep.store(1, ordering: .relaxed)
    try? shared.lock()
    helperHeldAt = Keel.ticks
    helperStep.store(2, ordering: .relaxed)
    Keel.sleep(ticks: 10)
    helperStep.store(3, ordering: .relaxed)
    try? shared.unlock()
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
    try? go.take()
    // 4. Waits for `shared`, which the helper holds, lending it its priority.
    try? shared.lock()
    workerSteps = 4
    try? shared.unlock()
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
    changePriorities()
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

@inline(never)
func changePriorities() {
    print("control: priorities worker \(Tasks.worker.priority), controller \(Keel.runningTask.priority), helper \(Tasks.helper.priority)")

    Tasks.helper.notify()
    Keel.sleep(ticks: 1)  // the helper reaches `go`
    // The worker (3) and the helper (1) wait on `go`: raised to 4, the helper is woken first,
    // and runs before `give` returns (4 is above the controller's 2): it takes `go`, locks
    // `shared` and sleeps 10 ticks.
    Tasks.helper.setPriority(4)
    go.give()
    print("control: helper raised to 4 took go first: \(helperStep.load(ordering: .relaxed) == 2), worker \(status(Tasks.worker))")
    Tasks.helper.setPriority(1)

    // The worker (3) takes the next `go` and waits for `shared`, which the sleeping helper holds.
    let heldAt = helperHeldAt
    go.give()
    print("control: helper step \(helperStep.load(ordering: .relaxed)), worker \(status(Tasks.worker)) for shared")
    // Lowered to 1, the waiter lends the holder 1: awake again at +10, it does not preempt
    // this task (2), which spins past that.
    Tasks.worker.setPriority(1)
    while Keel.ticks &- heldAt < 13 {}
    print("control: waiter lowered to 1: at +13 the holder has not run: \(helperStep.load(ordering: .relaxed) == 2)")
    // Raised to 3 again, it lends 3 at once: the holder runs, releases, and the worker runs,
    // before this call returns.
    Tasks.worker.setPriority(3)
    print("control: waiter raised to 3: holder released before the call returned: \(helperStep.load(ordering: .relaxed) == 3), worker step \(workerSteps), \(status(Tasks.worker))")

    // A task raised above the caller runs at once; it lowers itself again.
    Tasks.spinner.resume()
    spinnerRequest.store(1, ordering: .relaxed)
    Tasks.spinner.setPriority(3)
    let ran = spinnerRequest.load(ordering: .relaxed) == 0  // it took the request
    print("control: spinner raised to 3 ran before the call returned: \(ran), lowered itself to \(Tasks.spinner.priority)")
    Tasks.spinner.suspend()
}
