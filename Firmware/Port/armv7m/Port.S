@ Keel port for ARMv7-M (Cortex-M3/M4/M7): context switch, first-task start, fault entry, BASEPRI, semihosting.
@
@ Why assembly: every routine here reads or writes a special register (PSP, MSP, MSPLIM,
@ BASEPRI, IPSR), must control exactly which registers are saved around the scheduler call
@ (r4-r11, EXC_RETURN, s16-s31: Swift can neither name them nor keep the compiler from using
@ them), or must run before anything is pushed (the fault entry on a broken handler stack).
@
@ Exception and priority model. Tasks run in thread mode on the process stack (PSP); the
@ kernel, every handler and boot code run on the main stack (MSP), which the layout planner
@ places above every task stack on an MPU board (with its own guard) and at the bottom of
@ RAM otherwise. PendSV and SysTick share the lowest priority, so a context switch is never
@ interrupted by the scheduler's other half; faults are more urgent than both. On exception
@ entry the hardware pushes r0-r3, r12, lr, pc and xPSR on the interrupted stack (ARMv7-M
@ B1.5.6); PendSV saves r4-r11 and PSP into the task control block, never onto the task's
@ stack, so the software save writes nothing that a stack check could miss.
@
@ Task control block prefix (TaskControlBlock.swift, SavedContext); the offsets are -D
@ definitions from `keel build`, defined once in Kernel/Contract/PortLayout.swift and
@ checked against the compiler's layout at boot (Kernel/PortContract.swift):
@   [tcb + TCB_STACK_POINTER]  process stack pointer (0)
@   [tcb + 4 .. 32]            r4 .. r11
@   [tcb + TCB_EXC_RETURN]     the task's EXC_RETURN (36)
@   (in register order: one stmia/ldmia of {r1, r4-r11, lr}, with r1 = PSP, moves all ten)
@   [tcb + TCB_STACK_LIMIT]    stack limit, loaded into PSPLIM on ARMv8-M (40)
@   [tcb + TCB_SWITCH_REGIONS] two MPU regions (RBAR, RASR|RLAR each), written to the MPU at switch-in (44)
@   [tcb + TCB_SPLIT_LIMIT]    split-stack limit, stored into __STACK_LIMIT at switch-in (60)
@   [tcb + TCB_FLOATING_POINT] s16-s31 of a task whose frame is an extended one (128; KEEL_FPU only)
@
@ Floating point (KEEL_FPU: a hard-float image). The hardware stacks s0-s15 and FPSCR of a
@ task that used the FPU, lazily (it reserves the 18 words and writes them only when the
@ handler executes its first FP instruction: FPCCR.LSPEN), and says so in EXC_RETURN bit 4
@ (0: extended frame). The switch saves s16-s31 into the control block, never onto the task's
@ stack, only for such a task, and loads them only for a task whose saved EXC_RETURN says so:
@ a task that never touched the FPU pays two instructions each way (tst, branch).
@
@ Defines set by `keel build`: KEEL_LIMIT_REGISTER (some task uses T1), KEEL_MPU (the board
@ has an MPU: the fault path turns it off before touching a broken handler stack) and
@ KEEL_MPU_SWITCH (some task uses T2 or T3: every switch-in loads the task's two regions)
@ and KEEL_SPLIT_STACK (the image has split-stack code: every switch-in sets the word its
@ prologue compares SP with; see Kernel/Segments/SegmentedStacks.swift).
@
@ Critical sections (BASEPRI). The kernel masks interrupts at its ceiling, KEEL_KERNEL_CEILING
@ (Contract/KernelCeiling.swift): BASEPRI = ceiling masks every interrupt of that priority or
@ less urgent (SysTick, PendSV, every attached handler) and leaves the more urgent ones, the
@ zero-latency interrupts, to run at once, whatever the kernel is doing. They may not call the
@ kernel (`keel check` reports it). Faults (priority 0) are never masked.
@
@ ARMv8-M Mainline (Cortex-M33, M55) uses this same file through armv8m/Port.S, which defines
@ KEEL_HAS_PSPLIM: PSPLIM is loaded at every switch-in when some task uses T1, and MSPLIM
@ guards the handler stack.

    .syntax unified
    .thumb
    .text

    .equ MPU_CTRL, 0xE000ED94
    .equ MPU_RBAR, 0xE000ED9C       @ then RASR|RLAR, RBAR_A1, RASR_A1|RLAR_A1 (ARMv7-M B3.5, ARMv8-M B10)

@ LOAD_SWITCH_REGIONS tcb: write the task's two MPU regions with one store. Clobbers r2, r4-r7
@ (r4-r7 are restored from the TCB right after). On PMSAv7 each RBAR write selects its region
@ (VALID bit); on PMSAv8 MPU_RNR was set once at boot and alias 1 is region RNR+1.
@ Interrupts are masked across the store: between a region's base and its size the region
@ is half old, half new, and a handler taking that moment must not see it.
    .macro LOAD_SWITCH_REGIONS tcb
#if defined(KEEL_MPU_SWITCH)
    add   r2, \tcb, #TCB_SWITCH_REGIONS @ r2 = &tcb.context.switchRegions
    ldmia r2, {r4-r7}               @ r4-r7 = RBAR0, RASR0|RLAR0, RBAR1, RASR1|RLAR1
    ldr   r2, =MPU_RBAR             @ r2 = MPU_RBAR
    cpsid i                         @ no handler between the words of one region
    stmia r2, {r4-r7}               @ both regions in one store, through the alias registers
    cpsie i                         @ (PendSV and SVC only run when PRIMASK was 0)
    dsb                             @ the MPU writes complete before the task's first access
#endif
    .endm

@ LOAD_SPLIT_LIMIT tcb: __STACK_LIMIT = tcb.context.splitLimit. Clobbers r2, r3.
    .macro LOAD_SPLIT_LIMIT tcb
#if defined(KEEL_SPLIT_STACK)
    ldr   r2, [\tcb, #TCB_SPLIT_LIMIT] @ r2 = the task's split-stack limit (its segment's bottom + slack)
    ldr   r3, =__STACK_LIMIT        @ r3 = the word every split prologue compares SP with
    str   r2, [r3]                  @ __STACK_LIMIT = r2
#endif
    .endm

@ keel_pendsv_handler: switch from the current task to the one keel_schedule picks.
@ In: lr = EXC_RETURN (thread, PSP). Out: r4-r11, PSP of the next task. Clobbers: r0-r3, r12.
    .global keel_pendsv_handler
    .type keel_pendsv_handler, %function
    .thumb_func
keel_pendsv_handler:
    ldr   r2, =keel_scheduler + SCHEDULER_CURRENT @ r2 = &scheduler.current (after the rank table)
    ldr   r0, [r2]                  @ r0 = current (outgoing TCB)
    mrs   r1, psp                   @ r1 = outgoing PSP, hardware frame already pushed
    stmia r0, {r1, r4-r11, lr}      @ current.context.stackPointer, .r4...r11, .exceptionReturn = PSP, r4...r11, EXC_RETURN
#if defined(KEEL_FPU)
    tst   lr, #0x10                 @ EXC_RETURN bit 4 clear: an extended frame, the task used the FPU
    beq   3f                        @ save s16-s31 (out of line: the integer path falls through)
4:                                  @ (after the integer save: a lazy-state fault in the FP save
                                    @ finds the task's context complete, and may replace it)
#endif
    bl    keel_schedule             @ r0 = next: checks the outgoing task, picks, sets scheduler.current
    LOAD_SWITCH_REGIONS r0          @ the MPU guards the next task's stack (T2, T3)
    LOAD_SPLIT_LIMIT r0             @ the prologue checks against the next task's segment
#if defined(KEEL_HAS_PSPLIM) && defined(KEEL_LIMIT_REGISTER)
    ldr   r2, [r0, #TCB_STACK_LIMIT] @ r2 = next.context.stackLimit (0 when the task has no T1)
    msr   psplim, r2                @ PSPLIM = limit, before PSP moves onto the new stack
#endif
    ldmia r0, {r1, r4-r11, lr}      @ r1, r4...r11, lr = next.context.stackPointer, .r4...r11, .exceptionReturn
    msr   psp, r1                   @ PSP = next task's stack (its frame is on top)
#if defined(KEEL_FPU)
    tst   lr, #0x10                 @ the next task's frame is an extended one?
    bne   keel_pendsv_return        @ no: nothing more to load
    add   r2, r0, #TCB_FLOATING_POINT @ r2 = &next.floatingPoint
    vldmia r2, {s16-s31}            @ s16-s31 = the next task's (s0-s15 come back with its frame)
#endif
    .global keel_pendsv_return      @ (a label only: `keel bench --app` ends each switch's count here)
keel_pendsv_return:
    bx    lr                        @ exception return (EXC_RETURN): hardware pops the next task's frame
#if defined(KEEL_FPU)
3:  add   r2, r0, #TCB_FLOATING_POINT @ r2 = &current.floatingPoint
    vstmia r2, {s16-s31}            @ save s16-s31 (the first FP instruction here makes the hardware
                                    @ write the lazily reserved s0-s15 into the task's frame first)
    b     4b                        @ back to the scheduler call
#endif

@ keel_svc_handler: enter the first task (scheduler.current) in thread mode on PSP.
@ In: scheduler.current set, its context prepared. Out: never returns to the caller of svc.
    .global keel_svc_handler
    .type keel_svc_handler, %function
    .thumb_func
keel_svc_handler:
    ldr   r0, =keel_scheduler + SCHEDULER_CURRENT @ r0 = &scheduler.current
    ldr   r0, [r0]                  @ r0 = scheduler.current: the first task's TCB
    LOAD_SWITCH_REGIONS r0          @ its MPU regions (T2, T3)
    LOAD_SPLIT_LIMIT r0             @ its split-stack limit
#if defined(KEEL_HAS_PSPLIM) && defined(KEEL_LIMIT_REGISTER)
    ldr   r2, [r0, #TCB_STACK_LIMIT] @ r2 = its stack limit
    msr   psplim, r2                @ PSPLIM = limit
#endif
    ldmia r0, {r1, r4-r11, lr}      @ r1 = its stack pointer (a prepared exception frame), r4...r11 = its
                                    @ saved registers, lr = 0xFFFFFFFD (thread, PSP, basic frame)
    msr   psp, r1                   @ PSP = that frame
    ldr   r0, =keel_msp_top         @ r0 = top of the handler stack
    msr   msp, r0                   @ drop the boot frames: MSP is for handlers from now on
    bx    lr                        @ exception return pops the task's first frame

@ keel_fault_entry: HardFault, MemManage, BusFault and UsageFault.
@ In: lr = EXC_RETURN. Calls keel_fault(frame, EXC_RETURN, exception number), which applies
@ the task's fault policy (kill, restart, reset) or, for a fault of the kernel or a handler,
@ resets with a record, and returns the EXC_RETURN to leave with (a stopped or restarted
@ task's extended frame is abandoned: its stack now holds a basic one). Clobbers: r0-r3, r12.
@ A fault whose frame is on the main stack may come from a handler that overflowed it: MSP
@ then sits at MSPLIM (ARMv8-M) or inside the handler guard (the failed stacking still moved
@ it). The first push would fault again and lock the core up, so before pushing anything
@ the limit is cleared, the MPU turned off and MSP restarted from its top. That path never
@ returns (it resets), so the handler stack's old contents no longer matter.
    .global keel_fault_entry
    .type keel_fault_entry, %function
    .thumb_func
keel_fault_entry:
    tst   lr, #4                    @ EXC_RETURN bit 2: which stack holds the frame?
    bne   1f
#if defined(KEEL_FPU)
    ldr   r1, =0xE000ED28           @ r1 = &CFSR
    ldr   r1, [r1]                  @ r1 = CFSR
    movw  r2, #0x2020               @ r2 = MLSPERR | LSPERR: a lazy FP save into a task's frame failed
    tst   r1, r2                    @ in a handler whose own stack is sound: the fault path may
    beq   5f                        @ return into it, so MSP stays as it is
    mrs   r0, msp                   @ r0 = the fault's frame, on the handler stack
    b     2f
5:
#endif
    mrs   r0, msp                   @ r0 = frame on the main stack (maybe never written)
#if defined(KEEL_HAS_PSPLIM)
    movs  r1, #0
    msr   msplim, r1                @ MSPLIM = 0: the fault path may push again
#endif
#if defined(KEEL_MPU)
    ldr   r1, =MPU_CTRL
    movs  r2, #0
    str   r2, [r1]                  @ MPU off: the report may read the frame wherever it is
    dsb
    isb
#endif
    ldr   r1, =keel_msp_top
    mov   sp, r1                    @ MSP = top of the handler stack, for the report and reset
    b     2f
1:  mrs   r0, psp                   @ r0 = frame on the process stack
2:  mov   r1, lr                    @ r1 = EXC_RETURN
    mrs   r2, ipsr                  @ r2 = exception number
    push  {r0, lr}                  @ keep EXC_RETURN (r0 keeps MSP 8-byte aligned)
    bl    keel_fault                @ apply the policy; returns only for a task's fault: r0 = EXC_RETURN
    pop   {r1, r2}                  @ drop what was kept (r0 holds the EXC_RETURN to use)
    bx    r0                        @ exception return; a pending PendSV tail-chains

#if !defined(KEEL_SPLIT_STACK)
@ keel_interrupt_dispatch: every device interrupt's vector. Jumps to the handler attached to
@ the line (DeviceInterrupts.swift, `keel_interrupt_handlers`, one word per line, 0: none).
@ In assembly because it is the first thing every interrupt runs: five instructions where the
@ Swift version took eighteen (a frame, a call for IPSR, range checks the vector table makes
@ needless: only IRQ vectors 16...23 point here). An image with split-stack code keeps the
@ Swift version, which also gives the handler the handler stack's split-stack limit.
@ In: lr = EXC_RETURN. Out: tail call; the handler returns from the exception. Clobbers: r0, r1.
    .global keel_interrupt_dispatch
    .type keel_interrupt_dispatch, %function
    .thumb_func
keel_interrupt_dispatch:
    mrs   r0, ipsr                  @ r0 = exception number = 16 + IRQ line
    ldr   r1, =keel_interrupt_handlers - 64  @ r1 = the table, indexed from exception number 0
    ldr   r0, [r1, r0, lsl #2]      @ r0 = handlers[line]
    cbz   r0, 1f                    @ nothing attached: unexpected
    bx    r0                        @ tail call: lr still holds EXC_RETURN
1:  b     keel_unexpected_interrupt @ reports and ends the run
#endif

@ keel_set_process_stack: PSP = r0, and PSPLIM = r1 on ARMv8-M. A task restarted from its
@ own fault handler returns through the fresh frame this points at.
    .global keel_set_process_stack
    .type keel_set_process_stack, %function
    .thumb_func
keel_set_process_stack:
#if defined(KEEL_HAS_PSPLIM)
    movs  r2, #0
    msr   psplim, r2                @ no limit while PSP moves (the new one may lie below the old limit)
#endif
    msr   psp, r0                   @ PSP = r0
#if defined(KEEL_HAS_PSPLIM)
    msr   psplim, r1                @ PSPLIM = r1
#endif
    bx    lr

@ keel_set_main_stack_limit: MSPLIM = r0 on ARMv8-M (the handler stack's hardware limit);
@ nothing on ARMv7-M, whose handler stack has an MPU guard instead.
    .global keel_set_main_stack_limit
    .type keel_set_main_stack_limit, %function
    .thumb_func
keel_set_main_stack_limit:
#if defined(KEEL_HAS_PSPLIM)
    msr   msplim, r0                @ MSPLIM = r0
#endif
    bx    lr

@ keel_interrupts_mask: r0 = BASEPRI, then mask interrupts at the kernel's ceiling. Called only
@ from Thumb-1 code on this core (the bench's Thumb-1 routes: no Thumb-1 encoding of MSR
@ BASEPRI); Thumb-2 code masks inline (Port/include/KeelRegisters.h).
    .global keel_interrupts_mask
    .type keel_interrupts_mask, %function
    .thumb_func
keel_interrupts_mask:
    mrs   r0, basepri               @ r0 = previous BASEPRI (0: nothing masked)
    movs  r1, #KEEL_KERNEL_CEILING  @ r1 = the kernel's ceiling
    msr   basepri_max, r1           @ BASEPRI = ceiling, unless something stricter is masked already
    bx    lr

@ keel_interrupts_restore: BASEPRI = r0 (0 unmasks; the ceiling keeps a nested section masked).
    .global keel_interrupts_restore
    .type keel_interrupts_restore, %function
    .thumb_func
keel_interrupts_restore:
    msr   basepri, r0               @ BASEPRI = saved value
    bx    lr

@ Special-register accessors, first-task entry and semihosting: the same Thumb-1
@ instructions on every port.
#include "../armv6m/SpecialRegisters.S"

    .ltorg
