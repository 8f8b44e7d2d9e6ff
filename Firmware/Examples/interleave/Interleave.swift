// Three tasks whose order on the console follows from their priorities and sleeps alone.
//
// At every tick the most urgent ready task runs first. Expected (tick in brackets):
// H0[0] M0[0] L0[0] L1[1] M1[2] L2[2] H1[3] M2[4] H2[6]; the test checks exactly that.
//
// Each task takes its board's default protection. On the micro:bit that is T4 and T5, and
// T4's red zone must hold the largest frame below the task (`print` has a 304-byte one,
// which a 16-byte band would let write below the stack unseen), so the manifest names the
// micro:bit's list only to give it a 320-byte red zone; the MPS2 boards keep their
// default. Stacks are 1792 bytes: `print`'s worst case (about 1.2 KiB, 1.3 on the micro:bit)
// plus that red zone, so `keel check` passes on every board.

import Keel

func highTask() { run("H", every: 3) }
func middleTask() { run("M", every: 2) }
func lowTask() { run("L", every: 1) }

func run(_ name: StaticString, every period: UInt32) {
    for round in 0..<3 {
        print("\(name)\(round)@\(Keel.ticks)")
        Keel.sleep(ticks: period)
    }
}
