@ __morestack for Keel's segmented stacks: move a function onto a new segment and back.
@
@ Why assembly: this routine changes SP under the running code, must pass r0-r3 and r6-r11
@ through untouched, and copies the caller's saved registers and stack arguments; no
@ compiled code may run between the old stack and the new. Everything that can be Swift
@ is: keel_segment_grow and keel_segment_release (Kernel/Segments/SegmentedStacks.swift)
@ pick the segment, keep the chain and the accounting, and move __STACK_LIMIT.
@
@ Thumb-1 instructions only, so this one file serves the M0, the M3 and the M33; on the M33
@ (KEEL_ARMV8M) it also moves PSPLIM, the hardware backstop. Split code is Thumb-1 on the M0
@ (LLVM's prologue for thumbv6m-unknown-linux-gnueabi) and Thumb-2 on the M3 and M33 (the
@ Thumb-2 prologue with its limit load rewritten, KeelKit Build/SplitPrologueRewrite.swift);
@ both call here the same way.
@
@ The contract with LLVM's prologue (ARMFrameLowering::adjustForSegmentedStacks):
@   the function did   push {r4, r5}; ...; r4 = frame bytes; r5 = stack-argument bytes;
@                      push {lr}; bl __morestack
@                      (the Thumb-2 small-frame form pushes r4, r5 only once its check failed)
@   so on entry        SP -> [lr_f][r4_c][r5_c][r5 bytes of stack arguments]
@                      lr  = the 8-byte stub after the bl (Thumb-1: pop {r4}; mov lr, r4;
@                      pop {r4, r5}; bx lr. Thumb-2: ldr lr, [sp], #4; pop {r4, r5}; bx lr)
@                      r0-r3 = the function's arguments; r4, r5, r12 are scratch
@   the body           starts at lr + 8 with pop {r4, r5}, then its normal prologue
@   the way back       branch to the stub on the old stack; it returns to the function's caller
@
@ Interrupts are masked only while the pool and the limits change and SP moves (two short
@ windows); the copy, the body and everything it calls run with the task's own mask.

    .syntax unified
    .thumb
    .text

    .global __morestack
    .type __morestack, %function
    .thumb_func
__morestack:
    push  {r0-r3, lr}               @ old stack: [r0-r3][stub][lr_f][r4_c][r5_c][args]
    mov   r0, r4                    @ r0 = frame bytes the function needs
    mov   r1, r5                    @ r1 = bytes of its stack arguments
    mov   r2, sp                    @ r2 = old SP, kept in the new segment's header
    mrs   r4, primask               @ r4 = the task's interrupt mask (grow keeps r4, r5)
    cpsid i                         @ no switch while the pool, the chain and the limits change
    bl    keel_segment_grow         @ r0 = new SP (room for r4_c, r5_c, args); __STACK_LIMIT moved
    add   r1, sp, #24               @ r1 = &r4_c on the old stack
    adds  r5, r5, #8                @ r5 = bytes to copy: r4_c, r5_c and the arguments
1:  subs  r5, r5, #4                @ copy one word, top first (flags from subs)
    ldr   r2, [r1, r5]
    str   r2, [r0, r5]
    bne   1b                        @ ... down to offset 0
    mov   r1, sp                    @ r1 = old SP
#if defined(KEEL_ARMV8M)
    movs  r2, #0
    msr   psplim, r2                @ no hardware limit while SP moves between segments
#endif
    mov   sp, r0                    @ SP = the new segment
#if defined(KEEL_ARMV8M)
    ldr   r2, =keel_scheduler
    ldr   r2, [r2]                  @ r2 = the running task
    ldr   r2, [r2, #36]             @ r2 = context.stackLimit: the new segment's bottom
    msr   psplim, r2                @ PSPLIM = that bottom: the backstop for code without the prologue
#endif
    msr   primask, r4               @ interrupts as the task had them
    ldr   r4, [r1, #16]             @ r4 = the stub's address (lr on entry, Thumb bit set)
    adds  r4, r4, #8                @ r4 = the function's body, just past the stub
    mov   r12, r4                   @ r12 = the body
    ldm   r1, {r0-r3}               @ r0-r3 = the function's arguments (r1 last: no writeback)
    blx   r12                       @ run the function on the new segment; r0-r3 = its result

    push  {r0-r3}                   @ keep the result on the new segment (nothing reuses it while masked)
    mrs   r4, primask               @ r4 = the task's interrupt mask
    cpsid i                         @ no switch while the segment goes back and the limits move
    bl    keel_segment_release      @ r0 = the old SP; __STACK_LIMIT is the old segment's again
    mov   r5, r0                    @ r5 = old SP
#if defined(KEEL_ARMV8M)
    movs  r0, #0
    msr   psplim, r0                @ no hardware limit while SP moves back
#endif
    pop   {r0-r3}                   @ r0-r3 = the result
    mov   sp, r5                    @ SP = the old stack: [r0-r3][stub][lr_f][r4_c][r5_c][args]
#if defined(KEEL_ARMV8M)
    mov   r12, r0                   @ keep r0 (result) while PSPLIM is reloaded
    ldr   r0, =keel_scheduler
    ldr   r0, [r0]                  @ r0 = the running task
    ldr   r0, [r0, #36]             @ r0 = the old segment's bottom
    msr   psplim, r0                @ PSPLIM = that bottom
    mov   r0, r12
#endif
    msr   primask, r4               @ interrupts as the task had them
    add   sp, #16                   @ drop the saved arguments
    pop   {r4}                      @ r4 = the stub's address
    bx    r4                        @ the stub pops lr_f, r4_c, r5_c and returns to the caller
    .ltorg

@ The end of __morestack's code, for the tick's "interrupted inside __morestack" probe.
    .global keel_morestack_end
    .type keel_morestack_end, %function
    .thumb_func
keel_morestack_end:
    bx    lr
