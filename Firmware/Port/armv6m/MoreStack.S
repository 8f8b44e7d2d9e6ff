@ __morestack for Keel's segmented stacks: move a function onto a new segment and back.
@
@ Why assembly: this routine changes SP under the running code (and CONTROL.SPSEL around its
@ slow path; keel_segment_refused_wait sets CONTROL and MSP), must pass r0-r3 and r6-r11
@ through untouched, and copies the caller's saved registers and stack arguments; no
@ compiled code may run between the old stack and the new. Everything that can be Swift
@ is: keel_segment_grow (Kernel/Segments/SegmentedStacks.swift) finds a new segment (or
@ grows the one in use in place), keeps the chain and the accounting, and moves the limits.
@
@ Thumb-1 instructions only, so this one file serves the M0, the M3 and the M33; on the M33
@ (KEEL_ARMV8M) it also moves PSPLIM, the hardware backstop, and on the M3
@ (KEEL_SEGMENT_GUARD) the MPU guard at the bottom of the segment in use. Split code is Thumb-1 on the M0
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
@ Interrupts are masked only while the chain and the limits change and SP moves (two short
@ windows); the copy, the body and everything it calls run with the task's own mask, which
@ stays in r12 across each window (MRS and MSR take r12 on the M0 too).
@
@ The fast path, and the protocol that makes it short: a segment the task no longer uses
@ stays linked above the one below it (its header's `next`), so going down the chain only
@ makes the one below current again, and a split usually finds a segment already there,
@ large enough (its header's `room`), to make current. Each header holds what being current
@ means: the prologue's limit, and the bottom for PSPLIM or the guard. Neither way touches
@ the accounting: the bytes a task holds include what it keeps. Only a split that finds
@ nothing kept, or too little, calls Swift (keel_segment_grow), and so does one in an
@ interrupt handler: the dispatcher points keel_running_chain at a chain that keeps nothing
@ (SegmentedStacks.handlerChain), and grow reports the handler's overflow. The offsets below are checked against the compiler's layout at boot
@ (SegmentedStacks.checkFastPathLayout).
@
@ The slow path runs on the handler stack: from a task, __morestack switches SP to MSP
@ (CONTROL.SPSEL) around keel_segment_grow, so the allocator's tree costs the task's slack
@ nothing; the slack below a limit holds only a checked frame, the prologue's and
@ __morestack's pushes and an exception frame (`keel check` proves it, and counts grow's tree
@ on the handler stack). Interrupts are masked, so no handler shares MSP meanwhile. A refused
@ request leaves through keel_segment_refused_wait, which goes back to the task's stack first.

    .syntax unified
    .thumb
    .text

@ SegmentChain (SegmentedStacks.swift): field offsets (its first segment's header is at 0).
    .equ CHAIN_CURRENT, 24          @ header of the segment in use
    .equ CHAIN_TASK, 28             @ the task's control block
    .equ CHAIN_SPLITS, 32
@ TaskControlBlock: TCB_STACK_LIMIT (context.stackLimit: PSPLIM on the M33), TCB_SWITCH_REGIONS
@ (context.switchRegions: its first word is the segment guard's RBAR on the M3) and
@ TCB_SPLIT_LIMIT (context.splitLimit: __STACK_LIMIT) come from `keel build` (-D), defined
@ once in Kernel/Contract/PortLayout.swift and checked at boot (Kernel/PortContract.swift).
@ SegmentHeader, in a segment's top 24 bytes.
    .equ HEADER_PREVIOUS, 0         @ the segment below
    .equ HEADER_NEXT, 4             @ a segment kept above, 0 if none
    .equ HEADER_RETURN_SP, 8        @ SP on the segment below, past __morestack's r0-r3
    .equ HEADER_LIMIT, 12           @ the prologue's limit while this segment is in use
    .equ HEADER_BOTTOM, 16
    .equ HEADER_ROOM, 20            @ the most frame + argument bytes a split may bring
@ RBAR of the M3's guard at a segment's bottom (SegmentGuard.swift): the region 32 bytes up
@ (above the landing pad for a fault's frame), VALID (bit 4) and region number 6
@ (SegmentGuard.regionNumber, the first switch region, checked against the layout at boot
@ by Kernel.start). A bottom is 32-byte aligned.
    .equ GUARD_RBAR_OFFSET, 32 + 0x10 + 6
    .equ MPU_RBAR, 0xE000ED9C       @ the MPU's region base address register (ARMv7-M B3.5.9)

@ CHAIN chain: chain = the running task's SegmentChain (kept by the scheduler at switch-in).
    .macro CHAIN chain
    ldr   \chain, =keel_running_chain
    ldr   \chain, [\chain]              @ chain = the running task's chain
    .endm

@ MAKE_CURRENT header, tcb, s1, s2: the running task's limits for the segment whose header is
@ header, all read from it: __STACK_LIMIT and its saved copy; on the M33 the saved PSPLIM,
@ with s1 = the bottom for the caller's msr once SP may move; on the M3 the guard, its saved
@ first switch region and the MPU's, with one RBAR write (no barrier: until the write takes
@ effect the old region still guards the old segment and the new one is not yet armed, while
@ this code touches neither segment's lowest bytes; the exception return or interrupt that
@ could next matter synchronizes anyway). Clobbers s1, s2.
    .macro MAKE_CURRENT header, tcb, s1, s2
    ldr   \s1, [\header, #HEADER_LIMIT]
    str   \s1, [\tcb, #TCB_SPLIT_LIMIT] @ context.splitLimit = the limit
    ldr   \s2, =__STACK_LIMIT
    str   \s1, [\s2]                    @ __STACK_LIMIT = the limit
#if defined(KEEL_SEGMENT_GUARD)
    ldr   \s1, [\header, #HEADER_BOTTOM]
    adds  \s1, #GUARD_RBAR_OFFSET         @ s1 = RBAR: the region above the bottom's landing pad
    str   \s1, [\tcb, #TCB_SWITCH_REGIONS] @ what the next switch-in loads
    ldr   \s2, =MPU_RBAR
    str   \s1, [\s2]                    @ RBAR with VALID: selects the region and moves it now
#endif
#if defined(KEEL_ARMV8M)
    ldr   \s1, [\header, #HEADER_BOTTOM]
    str   \s1, [\tcb, #TCB_STACK_LIMIT] @ context.stackLimit = the bottom (PSPLIM at switch-in)
#endif
    .endm

    .global __morestack
    .type __morestack, %function
    .thumb_func
__morestack:
    push  {r0-r3, lr}               @ old stack: [r0-r3][stub][lr_f][r4_c][r5_c][args]
    mrs   r12, primask              @ r12 = the task's interrupt mask
    cpsid i                         @ no switch while the chain and the limits change
    CHAIN r2                        @ r2 = the task's chain (in a handler the dispatcher's: nothing kept)
    ldr   r3, [r2, #CHAIN_CURRENT]  @ r3 = the segment in use
    ldr   r1, [r3, #HEADER_NEXT]    @ r1 = the segment kept above it, 0 if none
    cmp   r1, #0
    beq   .Lgrow_in_swift           @ none: Swift takes a segment from the allocator
    adds  r0, r4, r5                @ r0 = what the function needs: frame and arguments
    ldr   r3, [r1, #HEADER_ROOM]
    cmp   r0, r3
    bhi   .Lgrow_in_swift           @ too small: Swift gives it back and takes a larger one
    str   r1, [r2, #CHAIN_CURRENT]  @ the kept segment is in use (its links stand)
    add   r0, sp, #16
    str   r0, [r1, #HEADER_RETURN_SP] @ the way back: SP past the saved r0-r3
    ldr   r0, [r2, #CHAIN_SPLITS]
    adds  r0, r0, #1
    str   r0, [r2, #CHAIN_SPLITS]   @ one more split served
    ldr   r2, [r2, #CHAIN_TASK]     @ r2 = the running task
    MAKE_CURRENT r1, r2, r3, r0     @ its limits (r3 = its bottom on the M33)
#if defined(KEEL_ARMV8M)
    msr   psplim, r3                @ PSPLIM = the new bottom: no stack access until SP is there
#endif
    subs  r0, r1, r5                @ r0 = the header less the arguments
    lsrs  r0, r0, #3
    lsls  r0, r0, #3                @ r0 = new SP: the arguments start 8-byte aligned below the header
.Lgrown:                            @ r0 = new SP (where the arguments go), r12 = mask, r5 = argument bytes
    cmp   r5, #0
    bne   .Lcopy_arguments          @ stack arguments: copied out of line (rare)
.Lenter:
    mov   r1, sp                    @ r1 = old SP
    mov   sp, r0                    @ SP = the new segment
    msr   primask, r12              @ interrupts as the task had them
    ldr   r4, [r1, #16]             @ r4 = the stub's address (lr on entry, Thumb bit set)
    adds  r4, r4, #10               @ r4 = the body past its first instruction, pop {r4, r5} ...
    mov   r12, r4                   @ r12 = there
    ldr   r4, [r1, #24]             @ ... which is done here instead: r4 = r4_c
    ldr   r5, [r1, #28]             @ r5 = r5_c (so neither is copied to the new segment)
    ldm   r1, {r0-r3}               @ r0-r3 = the function's arguments (r1 last: no writeback)
    blx   r12                       @ run the function on the new segment; r0-r3 = its result

    push  {r0-r3}                   @ keep the result on the new segment (nothing reuses it while masked)
    mrs   r12, primask              @ r12 = the task's interrupt mask
    cpsid i                         @ no switch while the chain and the limits change
    CHAIN r2                        @ r2 = the task's chain
    ldr   r1, [r2, #CHAIN_CURRENT]  @ r1 = the segment being left (it stays linked, kept)
    ldr   r5, [r1, #HEADER_RETURN_SP] @ r5 = where to go back to
    ldr   r1, [r1, #HEADER_PREVIOUS] @ r1 = the segment below ...
    str   r1, [r2, #CHAIN_CURRENT]  @ ... is in use again
    ldr   r2, [r2, #CHAIN_TASK]     @ r2 = the running task
    MAKE_CURRENT r1, r2, r4, r3     @ its limits again (r4 = its bottom on the M33)
    pop   {r0-r3}                   @ r0-r3 = the result (under the PSPLIM of the segment left)
#if defined(KEEL_ARMV8M)
    msr   psplim, r4                @ PSPLIM = the old bottom: no stack access until SP is back
#endif
    mov   sp, r5                    @ SP = the old stack: [stub][lr_f][r4_c][r5_c][args]
    msr   primask, r12              @ interrupts as the task had them
    pop   {r4}                      @ r4 = the stub's address
    bx    r4                        @ the stub pops lr_f, r4_c, r5_c and returns to the caller

.Lcopy_arguments:
    add   r1, sp, #32               @ r1 = the stack arguments on the old stack (past r4_c, r5_c)
1:  subs  r5, r5, #4                @ copy one word, top first (flags from subs)
    ldr   r2, [r1, r5]
    str   r2, [r0, r5]
    bne   1b                        @ ... down to offset 0
    b     .Lenter

.Lgrow_in_swift:
    mov   r0, r4                    @ r0 = frame bytes the function needs
    mov   r1, r5                    @ r1 = bytes of its stack arguments
    mov   r2, sp                    @ r2 = old SP, kept in the new segment's header
    mov   r4, r12                   @ r4 = the mask (grow keeps r4, r5)
    mrs   r3, ipsr
    cmp   r3, #0
    bne   1f                        @ a handler: already on the handler stack
    mrs   r3, control               @ a task: SPSEL is 1 (PSP)
    subs  r3, #2
    msr   control, r3               @ SPSEL = 0: SP is MSP, the handler stack, idle at its top
    isb                             @   (interrupts are masked: no handler can be using it)
    bl    keel_segment_grow         @ r0 = new SP (room for the arguments), or 0: grown in place
    mrs   r3, control
    adds  r3, #2
    msr   control, r3               @ SPSEL = 1: SP is the task's PSP again, as it was left
    isb
    b     2f
1:  bl    keel_segment_grow         @ (in a handler it reports the overflow and resets)
2:  mov   r12, r4                   @ r12 = the mask
    cmp   r0, #0
    beq   .Lgrown_in_place
#if defined(KEEL_ARMV8M)
    ldr   r3, =keel_scheduler
    ldr   r3, [r3]                  @ r3 = the running task
    ldr   r3, [r3, #TCB_STACK_LIMIT] @ r3 = the new segment's bottom
    msr   psplim, r3                @ PSPLIM = that bottom: no stack access until SP is there
#endif
    b     .Lgrown
    .ltorg

@ The segment in use grew down in place (keel_segment_grow returned 0; __STACK_LIMIT and the
@ task's limits are already lower): run the function right here, as if its check had passed.
@ The stack is [r0-r3][stub][lr_f][r4_c][r5_c][args]; the body pops r4_c, r5_c itself and
@ returns straight to the function's caller, so nothing comes back through __morestack.
.Lgrown_in_place:
#if defined(KEEL_ARMV8M)
    ldr   r0, =keel_scheduler
    ldr   r0, [r0]                  @ r0 = the running task
    ldr   r0, [r0, #TCB_STACK_LIMIT] @ r0 = the segment's new bottom
    msr   psplim, r0                @ PSPLIM follows it down (it only moves down: no window)
#endif
    msr   primask, r12              @ interrupts as the task had them
    ldr   r4, [sp, #16]             @ r4 = the stub's address (lr on entry)
    adds  r4, r4, #8                @ r4 = the function's body, just past the stub
    mov   r12, r4                   @ r12 = the body
    ldr   r4, [sp, #20]             @ r4 = lr_f: where the function returns
    mov   lr, r4                    @ lr = lr_f
    pop   {r0-r3}                   @ r0-r3 = the function's arguments
    add   sp, #8                    @ drop the stub and lr_f: SP -> [r4_c][r5_c][args]
    bx    r12                       @ the body: pop {r4, r5}, then the function as usual
    .ltorg

@ The end of __morestack's code, for the tick's "interrupted inside __morestack" probe.
    .global keel_morestack_end
    .type keel_morestack_end, %function
    .thumb_func
keel_morestack_end:
    bx    lr

@ keel_segment_refused_wait: the end of a refused request (SegmentedStacks.refuse, PendSV
@ already pending); never returns. When grow ran on the handler stack, SP goes back to the
@ task's PSP and MSP back to its top, so PendSV stacks the task's frame where the switch
@ expects it and returns to the next task on PSP; then interrupts are unmasked and PendSV
@ takes the task, which never runs from here again (its policy restarts or kills it).
    .global keel_segment_refused_wait
    .type keel_segment_refused_wait, %function
    .thumb_func
keel_segment_refused_wait:
    mrs   r0, control
    movs  r1, #2
    tst   r0, r1
    bne   1f                        @ SPSEL = 1: on the task's stack already (a heap refusal)
    orrs  r0, r1
    msr   control, r0               @ SPSEL = 1: SP is the task's PSP (grow's frames are left on MSP)
    isb
    ldr   r0, =keel_msp_top
    msr   msp, r0                   @ MSP = the top of the handler stack: grow's frames are dropped
1:  cpsie i                         @ PendSV runs now
2:  wfi
    b     2b                        @ not reached
    .ltorg
