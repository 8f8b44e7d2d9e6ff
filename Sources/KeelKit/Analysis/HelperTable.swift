// Stack facts for code the compiler did not describe: Keel's assembly and libgcc.
//
// Why: `.stack_sizes` covers only what LLVM compiled from Swift. Everything else in the
// image is assembly (the port, `__morestack`) or libgcc. Most of it is straight-line code
// whose pushes the analysis reads from the instructions themselves ("scanned" in the
// report). A routine that moves SP to another stack or jumps through a register cannot be
// read that way; for those this table says what the jump is and how many bytes the
// routine puts on the stack it was entered on, checked against the `.S` files by hand.

public struct HelperFacts: Sendable, Equatable {
    /// Bytes the routine pushes on the stack it was entered on (nil: read them from the code).
    public var bytes: UInt32?
    /// Why the routine's jumps through a register are not calls that use this stack (nil: they are).
    public var registerJumps: String?
    /// Why the routine may set SP from a register (nil: it must not).
    public var stackSwitch: String?
    /// Routines it calls on the handler stack, not on the stack it was entered on (their
    /// trees count against the handler stack: StackAnalysis.handlerStack).
    public var callsOnHandlerStack: [String] = []
}

public enum HelperTable {
    /// Keyed by symbol name.
    public static let keel: [String: HelperFacts] = [
        // Port/armv6m/MoreStack.S: push {r0-r3, lr} on the old stack; keel_segment_grow runs
        // on the handler stack (SPSEL = 0 around the call, interrupts masked); `blx r12` runs
        // the rest of the caller on the new segment.
        "__morestack": HelperFacts(
            bytes: 20,
            registerJumps: "runs the rest of its caller on a new segment (counted as the caller's own path) and returns through the caller's stub",
            stackSwitch: "moves SP to the new segment and back",
            callsOnHandlerStack: ["keel_segment_grow"]),
        // Port/armv6m/MoreStack.S: back to PSP and MSP to its top, then waits for PendSV.
        "keel_segment_refused_wait": HelperFacts(
            bytes: 0, registerJumps: nil, stackSwitch: "goes back to the task's stack; MSP restarts from its top"),
        // Port/armv6m/SpecialRegisters.S: MSP = top, then jump to r0, which resets.
        "keel_call_on_fresh_main_stack": HelperFacts(
            bytes: 0,
            registerJumps: "runs its argument from the top of the handler stack (a fresh stack; counted with the fault path)",
            stackSwitch: "restarts MSP from the top of the handler stack"),
        // Port/*/Port.S: exception return through r0 / lr; PSP and MSP set by msr (not SP moves).
        "keel_svc_handler": HelperFacts(
            bytes: 0, registerJumps: "exception return into the first task", stackSwitch: nil),
        "keel_pendsv_handler": HelperFacts(
            bytes: nil, registerJumps: "exception return into the next task", stackSwitch: nil),
        // Port/armv7m/Port.S: restarts MSP from its top for a fault on the handler stack, then
        // push {r0, lr}; the ARMv6-M version pushes the same two words without the restart.
        "keel_fault_entry": HelperFacts(
            bytes: 8, registerJumps: nil,
            stackSwitch: "restarts MSP from the top of the handler stack for a fault on it"),
    ]
}
