// An interrupt line the board does not have, computed at run time: a mistake on purpose.
// Written as a constant (`Keel.attachInterrupt(1000)`), `keel build` refuses it, naming the file
// and line. Computed, only the kernel can see it: it prints the line it refused, and the task
// stops by its policy with a fault record; `after` runs on and ends the run.
import Keel

func mainTask() {
    let line = 1000 + Int(Keel.ticks % 2)  // 1000 or 1001: no board has that many lines
    Keel.attachInterrupt(line) {}
    print("not reached: the line does not exist")
}

func afterTask() {
    Keel.sleep(ticks: 2)
    print("after: still running")
    Keel.shutdown(code: 0)
}
