// Decision and action: what the kernel does about a diagnosis, in one place and one order.
//
//   1. A fault of the kernel (no task ran, or a call that can block was made in a handler)
//      resets the system with its record.
//   2. An overflow that could have written kernel data or the idle task's live stack resets
//      the system with the culprit's record: nothing the kernel holds can be trusted.
//   3. The culprit gets its own policy (kill, restart or reset), with one record.
//   4. Containment judges every other task on the evidence and stops only the harmed.
//
// Steps 1-3 read the diagnosis only; step 4's judgement is the pure StackHarm (Contract/).

enum FaultResponse {
    static func respond(to diagnosis: Diagnosis, from origin: FaultPolicy.Origin) {
        guard let culprit = diagnosis.fault.task else { FaultPolicy.resetSystem(diagnosis.fault) }
        if Containment.reachesKernel(diagnosis) { FaultPolicy.resetSystem(diagnosis.fault) }
        FaultPolicy.apply(diagnosis.fault, to: culprit, from: origin)
        Containment.contain(diagnosis, culprit: culprit)
    }
}
