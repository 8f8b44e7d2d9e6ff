@ Keel port for ARMv7-M (Cortex-M3): context switch, first-task start, fault entry, PRIMASK, semihosting.
@
@ Exception and priority model. Tasks run in thread mode on the process stack (PSP); the
@ kernel, every handler and boot code run on the main stack (MSP), which the linker script
@ places at the bottom of RAM, below every task stack. PendSV and SysTick share the lowest
@ priority, so a context switch is never interrupted by the scheduler's other half; faults
@ are more urgent than both. On exception entry the hardware pushes r0-r3, r12, lr, pc and
@ xPSR on the interrupted stack (ARMv7-M B1.5.6); PendSV saves r4-r11 and PSP into the
@ task control block, never onto the task's stack, so the software save writes nothing
@ that a stack check could miss.
@
@ Task control block prefix (TaskControlBlock.swift, SavedContext):
@   [tcb + 0 .. 28]  r4 .. r11
@   [tcb + 32]       process stack pointer
@   [tcb + 36]       stack limit, loaded into PSPLIM on ARMv8-M
@
@ ARMv8-M Mainline (Cortex-M33) uses this same file through armv8m/Port.S, which defines
@ KEEL_HAS_PSPLIM: the only difference is the stack-limit register, loaded at every
@ switch-in when some task uses T1 (KEEL_LIMIT_REGISTER).
@
@ Why assembly: every routine here reads or writes a special register (PSP, MSP, PRIMASK,
@ IPSR), or must control exactly which registers are saved around the scheduler call.

    .syntax unified
    .thumb
    .text

@ keel_pendsv_handler: switch from the current task to the one keel_schedule picks.
@ In: lr = EXC_RETURN (thread, PSP). Out: r4-r11, PSP of the next task. Clobbers: r0-r3, r12.
    .global keel_pendsv_handler
    .type keel_pendsv_handler, %function
    .thumb_func
keel_pendsv_handler:
    ldr   r2, =keel_scheduler       @ r2 = &scheduler (its first word is the current task)
    ldr   r0, [r2]                  @ r0 = current (outgoing TCB)
    mrs   r1, psp                   @ r1 = outgoing PSP, hardware frame already pushed
    stmia r0, {r4-r11}              @ current.context.r4...r11 = r4...r11
    str   r1, [r0, #32]             @ current.context.stackPointer = PSP
    mov   r4, lr                    @ r4 = EXC_RETURN (r4, r5 are saved; the call keeps them)
    mov   r5, r2                    @ r5 = &scheduler
    bl    keel_schedule             @ r0 = keel_schedule(outgoing): checks it, picks the next
    str   r0, [r5]                  @ scheduler.current = next
    mov   lr, r4                    @ lr = EXC_RETURN
    ldr   r1, [r0, #32]             @ r1 = next.context.stackPointer
#if defined(KEEL_HAS_PSPLIM) && defined(KEEL_LIMIT_REGISTER)
    ldr   r2, [r0, #36]             @ r2 = next.context.stackLimit (0 when the task has no T1)
    msr   psplim, r2                @ PSPLIM = limit, before PSP moves onto the new stack
#endif
    msr   psp, r1                   @ PSP = next task's stack (its frame is on top)
    ldmia r0, {r4-r11}              @ r4...r11 = next.context.r4...r11
    bx    lr                        @ exception return: hardware pops the next task's frame

@ keel_svc_handler: enter the first task (scheduler.current) in thread mode on PSP.
@ In: scheduler.current set, its context prepared. Out: never returns to the caller of svc.
    .global keel_svc_handler
    .type keel_svc_handler, %function
    .thumb_func
keel_svc_handler:
    ldr   r0, =keel_scheduler       @ r0 = &scheduler
    ldr   r0, [r0]                  @ r0 = scheduler.current: the first task's TCB
    ldr   r1, [r0, #32]             @ r1 = its stack pointer (a prepared exception frame)
#if defined(KEEL_HAS_PSPLIM) && defined(KEEL_LIMIT_REGISTER)
    ldr   r2, [r0, #36]             @ r2 = its stack limit
    msr   psplim, r2                @ PSPLIM = limit
#endif
    msr   psp, r1                   @ PSP = that frame
    ldmia r0, {r4-r11}              @ r4...r11 = its saved registers
    ldr   r0, =keel_msp_top         @ r0 = top of the handler stack
    msr   msp, r0                   @ drop the boot frames: MSP is for handlers from now on
    mvn   lr, #2                    @ lr = 0xFFFFFFFD: return to thread mode, PSP
    bx    lr                        @ exception return pops the task's first frame

@ keel_start_first_task: unmask interrupts and enter the first task through SVC.
    .global keel_start_first_task
    .type keel_start_first_task, %function
    .thumb_func
keel_start_first_task:
    cpsie i                         @ PRIMASK = 0
    svc   #0                        @ -> keel_svc_handler
1:  b     1b                        @ not reached

@ keel_fault_entry: HardFault, MemManage, BusFault and UsageFault.
@ In: lr = EXC_RETURN. Calls keel_fault(frame, EXC_RETURN, exception number), which kills the
@ faulting task (and pends PendSV) or ends the run. Clobbers: r0-r3, r12.
    .global keel_fault_entry
    .type keel_fault_entry, %function
    .thumb_func
keel_fault_entry:
    tst   lr, #4                    @ EXC_RETURN bit 2: which stack holds the frame?
    ite   eq
    mrseq r0, msp                   @ r0 = frame on the main stack
    mrsne r0, psp                   @ r0 = frame on the process stack
    mov   r1, lr                    @ r1 = EXC_RETURN
    mrs   r2, ipsr                  @ r2 = exception number
    push  {r0, lr}                  @ keep EXC_RETURN (r0 keeps MSP 8-byte aligned)
    bl    keel_fault                @ report and kill the task, or end the run
    pop   {r0, pc}                  @ exception return; the pending PendSV tail-chains

@ keel_interrupts_mask: r0 = PRIMASK, then mask interrupts.
    .global keel_interrupts_mask
    .type keel_interrupts_mask, %function
    .thumb_func
keel_interrupts_mask:
    mrs   r0, primask               @ r0 = previous PRIMASK
    cpsid i                         @ PRIMASK = 1
    bx    lr

@ keel_interrupts_restore: PRIMASK = r0.
    .global keel_interrupts_restore
    .type keel_interrupts_restore, %function
    .thumb_func
keel_interrupts_restore:
    msr   primask, r0               @ PRIMASK = saved value
    bx    lr

@ keel_exception_number: r0 = IPSR (0 in thread mode).
    .global keel_exception_number
    .type keel_exception_number, %function
    .thumb_func
keel_exception_number:
    mrs   r0, ipsr                  @ r0 = active exception number
    bx    lr

@ keel_semihosting_call: r0 = operation, r1 = argument; r0 = result (QEMU -semihosting).
    .global keel_semihosting_call
    .type keel_semihosting_call, %function
    .thumb_func
keel_semihosting_call:
    bkpt  0xab                      @ semihosting trap (ARM semihosting spec, Thumb)
    bx    lr

    .ltorg
