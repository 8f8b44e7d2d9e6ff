// Three tasks whose order on the console follows from their priorities and sleeps alone.
//
// At every tick the most urgent ready task runs first. Expected (tick in brackets):
// H0[0] M0[0] L0[0] L1[1] M1[2] L2[2] H1[3] M2[4] H2[6]; the test checks exactly that.
//
// Each stack is 1536 bytes: `print`'s worst case is about 1.2 KiB (1.3 on the micro:bit),
// so `keel check` passes on every board.

func highTask() { run("H", every: 3) }
func middleTask() { run("M", every: 2) }
func lowTask() { run("L", every: 1) }

func run(_ name: StaticString, every period: UInt32) {
    for round in 0..<3 {
        print("\(name)\(round)@\(Keel.ticks)")
        Keel.sleep(ticks: period)
    }
}
