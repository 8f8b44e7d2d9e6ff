// A partial deadlock on purpose, the kind no kernel can refuse: `holder` takes `bus`, then
// waits for the semaphore `never`, which nobody gives; `waiter` waits for `bus` behind it;
// `ticker` runs on. The run never ends: `keel run --timeout` (or `keel top`) shows what each
// waiting task waits for, the mutex's holder, and since which tick.
import Keel

func tickerTask() {
    var rounds: UInt32 = 0
    while true {
        Keel.sleep(ticks: 100)
        rounds &+= 1
        if rounds == 3 { print("ticker: still running") }
    }
}

func waiterTask() {
    Keel.sleep(ticks: 20)
    try? bus.lock()
    print("waiter: not reached")
}

func holderTask() {
    Keel.sleep(ticks: 10)
    try? bus.lock()
    try? never.take()
    print("holder: not reached")
}
