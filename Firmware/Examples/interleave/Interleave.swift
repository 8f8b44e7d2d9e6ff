// Three tasks whose order on the console follows from their priorities and sleeps alone.
//
// At every tick the most urgent ready task runs first. Expected (tick in brackets):
// H0[0] M0[0] L0[0] L1[1] M1[2] L2[2] H1[3] M2[4] H2[6]; the test checks exactly that.

func highTask() { run("H", every: 3) }
func middleTask() { run("M", every: 2) }
func lowTask() { run("L", every: 1) }

func run(_ name: StaticString, every period: UInt32) {
    for round in 0..<3 {
        print("\(name)\(round)@\(Keel.ticks)")
        Keel.sleep(ticks: period)
    }
}
