@ Keel port for ARMv6-M (Cortex-M0): context switch, first-task start, fault entry, PRIMASK, semihosting.
@
@ Why assembly: PSP, MSP, PRIMASK and IPSR are special registers, and the save/restore
@ must control every register; Swift can do neither.
@
@ Exception and priority model: as on ARMv7-M (see armv7m/Port.S): tasks in thread mode on
@ PSP, kernel and handlers on MSP, PendSV and SysTick at the lowest priority. ARMv6-M has
@ only HardFault (no MemManage/BusFault/UsageFault, no CFSR) and no MPU on the micro:bit,
@ so stack protection here is T4, T5 and painting, checked at switch-out.
@ Thumb-1 differences: stm/ldm take only r0-r7, so r8-r11 go through r4-r7; no IT blocks.
@
@ Task control block prefix (Kernel/Contract/PortLayout.swift): [tcb+0] PSP, [tcb+4..32]
@ r4..r11 (in register order: one stmia/ldmia of {r1, r4-r7} moves PSP with r4-r7),
@ [tcb+36] EXC_RETURN (unused here: it waits on the handler stack), [tcb+40] limit and
@ [tcb+44..56] MPU regions (both unused: no PSPLIM, no MPU), [tcb+60] the split-stack limit,
@ stored into __STACK_LIMIT at switch-in when the image has split code (KEEL_SPLIT_STACK).

    .syntax unified
    .thumb
    .text

@ keel_pendsv_handler: switch from the current task to the one keel_schedule picks.
@ In: lr = EXC_RETURN. Out: r4-r11, PSP of the next task. Clobbers: r0-r3, r12.
@ EXC_RETURN waits on the handler stack and `pop {pc}` returns from the exception with it
@ (ARMv6-M B1.5.8: a POP that loads PC in handler mode is an exception return): two
@ instructions fewer than keeping it in a register across the call.
    .global keel_pendsv_handler
    .type keel_pendsv_handler, %function
    .thumb_func
keel_pendsv_handler:
    ldr   r2, =keel_scheduler       @ r2 = &scheduler (its first word is the current task)
    ldr   r0, [r2]                  @ r0 = current (outgoing TCB)
    mrs   r1, psp                   @ r1 = outgoing PSP
    stmia r0!, {r1, r4-r7}          @ context.stackPointer, .r4...r7 = PSP, r4...r7; r0 = &context.r8
    mov   r4, r8                    @ r4...r7 = r8...r11 (Thumb-1 stm takes low registers only)
    mov   r5, r9
    mov   r6, r10
    mov   r7, r11
    stmia r0!, {r4-r7}              @ context.r8...r11 (EXC_RETURN stays on the handler stack)
    push  {r2, lr}                  @ keep EXC_RETURN (r2 keeps the handler stack 8-byte aligned)
    bl    keel_schedule             @ r0 = next: checks the outgoing task, picks, sets scheduler.current
#if defined(KEEL_SPLIT_STACK)
    ldr   r2, [r0, #TCB_SPLIT_LIMIT] @ r2 = next.context.splitLimit
    ldr   r3, =__STACK_LIMIT        @ r3 = the word every split prologue compares SP with
    str   r2, [r3]                  @ __STACK_LIMIT = the next task's segment limit
#endif
    adds  r0, #20                   @ r0 = &next.context.r8
    ldmia r0!, {r4-r7}              @ r4...r7 = context.r8...r11
    mov   r8, r4                    @ r8...r11 = those values
    mov   r9, r5
    mov   r10, r6
    mov   r11, r7
    subs  r0, #36                   @ r0 = &next.context.stackPointer
    ldmia r0!, {r1, r4-r7}          @ r1, r4...r7 = context.stackPointer, .r4...r7
    msr   psp, r1                   @ PSP = next task's stack
    .global keel_pendsv_return      @ (a label only: `keel bench --app` ends each switch's count here)
keel_pendsv_return:
    pop   {r2, pc}                  @ exception return into the next task (pc = EXC_RETURN)

@ keel_svc_handler: enter the first task (scheduler.current) in thread mode on PSP.
    .global keel_svc_handler
    .type keel_svc_handler, %function
    .thumb_func
keel_svc_handler:
    ldr   r0, =keel_scheduler       @ r0 = &scheduler
    ldr   r0, [r0]                  @ r0 = scheduler.current: the first task's TCB
#if defined(KEEL_SPLIT_STACK)
    ldr   r2, [r0, #TCB_SPLIT_LIMIT] @ r2 = its split-stack limit
    ldr   r3, =__STACK_LIMIT
    str   r2, [r3]                  @ __STACK_LIMIT = r2
#endif
    ldr   r1, [r0, #TCB_STACK_POINTER] @ r1 = its prepared exception frame
    msr   psp, r1                   @ PSP = that frame
    ldr   r0, =keel_msp_top         @ r0 = top of the handler stack
    msr   msp, r0                   @ drop the boot frames
    ldr   r0, =0xFFFFFFFD           @ EXC_RETURN: thread mode, PSP
    bx    r0                        @ exception return pops the task's first frame (r4-r11 are 0)

@ keel_fault_entry: HardFault. Calls keel_fault(frame, EXC_RETURN, exception number).
@ In: lr = EXC_RETURN. Clobbers: r0-r3, r12.
@ A frame on the main stack may come from a handler that ran the handler stack off the
@ bottom of RAM (on the micro:bit it sits there, with nothing below): MSP then points
@ outside RAM, and the first push here would fault inside HardFault, which locks the core
@ up. So MSP is restarted from its top before anything is pushed; that path never returns
@ (a kernel fault resets), so the handler stack's old contents no longer matter.
    .global keel_fault_entry
    .type keel_fault_entry, %function
    .thumb_func
keel_fault_entry:
    mov   r1, lr                    @ r1 = EXC_RETURN
    movs  r0, #4
    tst   r0, r1                    @ EXC_RETURN bit 2: which stack holds the frame?
    beq   1f
    mrs   r0, psp                   @ r0 = frame on the process stack
    b     2f
1:  mrs   r0, msp                   @ r0 = frame on the main stack (maybe never written)
    ldr   r2, =keel_msp_top         @ r2 = top of the handler stack
    mov   sp, r2                    @ MSP = its top: room for the report and the reset
2:  mrs   r2, ipsr                  @ r2 = exception number
    push  {r0, lr}                  @ keep EXC_RETURN
    bl    keel_fault                @ report and kill the task, or end the run
    pop   {r0, pc}                  @ exception return; the pending PendSV tail-chains

#if !defined(KEEL_SPLIT_STACK)
@ keel_interrupt_dispatch: every device interrupt's vector. Jumps to the handler attached to
@ the line (DeviceInterrupts.swift, `keel_interrupt_handlers`, one word per line, 0: none).
@ In assembly because it is the first thing every interrupt runs (see armv7m/Port.S): only
@ IRQ vectors 16...23 point here, so the line needs no range check. An image with
@ split-stack code keeps the Swift version.
@ In: lr = EXC_RETURN. Out: tail call; the handler returns from the exception. Clobbers: r0, r1.
    .global keel_interrupt_dispatch
    .type keel_interrupt_dispatch, %function
    .thumb_func
keel_interrupt_dispatch:
    mrs   r0, ipsr                  @ r0 = exception number = 16 + IRQ line
    lsls  r0, r0, #2                @ r0 = its byte offset in a table from exception number 0
    ldr   r1, =keel_interrupt_handlers - 64  @ r1 = that table
    ldr   r0, [r1, r0]              @ r0 = handlers[line]
    cmp   r0, #0
    beq   1f                        @ nothing attached: unexpected
    bx    r0                        @ tail call: lr still holds EXC_RETURN
1:  bl    keel_unexpected_interrupt @ reports and ends the run (a bl: a b cannot reach that far)
2:  b     2b                        @ not reached
#endif

@ keel_set_process_stack: PSP = r0 (a task restarted from its own fault handler); r1, the
@ limit, is for ARMv8-M's PSPLIM and unused here.
    .global keel_set_process_stack
    .type keel_set_process_stack, %function
    .thumb_func
keel_set_process_stack:
    msr   psp, r0                   @ PSP = r0
    bx    lr

@ keel_set_main_stack_limit: ARMv6-M has no stack-limit register; nothing to do.
    .global keel_set_main_stack_limit
    .type keel_set_main_stack_limit, %function
    .thumb_func
keel_set_main_stack_limit:
    bx    lr

@ Special-register accessors, first-task entry and semihosting: the same Thumb-1
@ instructions on every port.
#include "SpecialRegisters.S"

    .ltorg
