@ Keel port routines that are the same instructions on every core: the first-task entry,
@ PRIMASK for `withAllInterruptsMasked`, PSP, a fresh handler stack, semihosting. (The
@ kernel's own critical sections and IPSR are inline: Port/include/KeelRegisters.h.) Included by armv6m/Port.S and
@ armv7m/Port.S (and so armv8m/Port.S); Thumb-1 encodings, valid on the M0, M3 and M33.
@
@ Why assembly: each one reads or writes a special register (PRIMASK, PSP, MSP) or
@ executes an instruction Swift cannot emit (cpsie, svc, bkpt).

@ keel_start_first_task: unmask interrupts and enter the first task through SVC.
    .global keel_start_first_task
    .type keel_start_first_task, %function
    .thumb_func
keel_start_first_task:
    cpsie i                         @ PRIMASK = 0
    svc   #0                        @ -> keel_svc_handler
1:  b     1b                        @ not reached

@ keel_process_stack: r0 = PSP.
    .global keel_process_stack
    .type keel_process_stack, %function
    .thumb_func
keel_process_stack:
    mrs   r0, psp                   @ r0 = the process stack pointer
    bx    lr

@ keel_call_on_fresh_main_stack: MSP = the top of the handler stack, then jump to r0 (which
@ never returns). For a handler whose stack is spent: the report and the reset need room.
    .global keel_call_on_fresh_main_stack
    .type keel_call_on_fresh_main_stack, %function
    .thumb_func
keel_call_on_fresh_main_stack:
    ldr   r1, =keel_msp_top
    mov   sp, r1                    @ MSP = top of the handler stack (the handler's frames are abandoned)
    bx    r0                        @ the function; it resets the system

@ keel_interrupts_mask_all: r0 = PRIMASK, then mask every interrupt (the zero-latency ones too).
    .global keel_interrupts_mask_all
    .type keel_interrupts_mask_all, %function
    .thumb_func
keel_interrupts_mask_all:
    mrs   r0, primask               @ r0 = previous PRIMASK
    cpsid i                         @ PRIMASK = 1
    bx    lr

@ keel_interrupts_restore_all: PRIMASK = r0.
    .global keel_interrupts_restore_all
    .type keel_interrupts_restore_all, %function
    .thumb_func
keel_interrupts_restore_all:
    msr   primask, r0               @ PRIMASK = saved value
    bx    lr

@ keel_semihosting_call: r0 = operation, r1 = argument; r0 = result (QEMU -semihosting).
    .global keel_semihosting_call
    .type keel_semihosting_call, %function
    .thumb_func
keel_semihosting_call:
    bkpt  0xab                      @ semihosting trap (ARM semihosting spec, Thumb)
    bx    lr

    .ltorg
