@ __morestack for Keel's segmented stacks: move a function onto a new segment and back.
@
@ Why assembly: this routine changes SP under the running code, must pass r0-r3 and r6-r11
@ through untouched, and copies the caller's saved registers and stack arguments; no
@ compiled code may run between the old stack and the new. Everything that can be Swift
@ is: keel_segment_grow and keel_segment_release (Kernel/Segments/SegmentedStacks.swift)
@ pick the segment, keep the chain and the accounting, and move __STACK_LIMIT.
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
@ Interrupts are masked only while the pool and the limits change and SP moves (two short
@ windows); the copy, the body and everything it calls run with the task's own mask.
@
@ The fast path: after a task's first split, the segment it releases stays with it as its
@ spare (SegmentedStacks.swift), and the next split usually fits in it. Taking the spare and
@ giving it back touch a few words of the task's chain and of the segment's header, so that
@ is done here, in line, without calling Swift. Everything else (no spare, a spare too
@ small, a spare already held on release, a split in a handler) goes to keel_segment_grow
@ and keel_segment_release. The offsets below are checked against the compiler's layout at
@ boot (SegmentedStacks.checkFastPathLayout). The peaks need no update here: the spare was
@ last in use on top of the same chain (nothing can grow between its release and its reuse),
@ so taking it back reaches no new high.

    .syntax unified
    .thumb
    .text

@ SegmentChain (SegmentedStacks.swift): field offsets.
    .equ CHAIN_CURRENT, 8
    .equ CHAIN_SPARE, 12
    .equ CHAIN_HELD, 16
    .equ CHAIN_SEGMENTS, 24
    .equ CHAIN_SPLITS, 32
    .equ CHAIN_FIRST_BOTTOM, 56
@ TaskControlBlock (TaskControlBlock.swift).
    .equ TCB_STACK_LIMIT, 36
    .equ TCB_GUARD_RBAR, 40         @ context.switchRegions.base0: the segment guard's RBAR (M3)
    .equ TCB_SPLIT_LIMIT, 56
@ SegmentHeader, in a segment's top 16 bytes.
    .equ HEADER_PREVIOUS, 0
    .equ HEADER_RETURN_SP, 4
    .equ HEADER_BOTTOM, 8
    .equ HEADER_BYTES, 12
@ The segment guard (M3): its band at a segment's bottom, under the slack (SegmentGuard.bytes),
@ the landing pad for a fault's frame at the band's bottom, under the 32-byte region, and the
@ MPU's region base address register (PMSAv7, ARMv7-M B3.5.9).
    .equ GUARD_BYTES, 64
@ RBAR of the guard at a segment's bottom: the region 32 bytes up (above the landing pad),
@ VALID (bit 4) and region number 6 (SegmentGuard.regionNumber, the first switch region,
@ checked against the layout at boot by Kernel.start). A bottom is 32-byte aligned.
    .equ GUARD_RBAR_OFFSET, 32 + 0x10 + 6
    .equ MPU_RBAR, 0xE000ED9C

@ CHAIN chain: chain = the running task's SegmentChain (kept by the scheduler at switch-in).
    .macro CHAIN chain
    ldr   \chain, =keel_running_chain
    ldr   \chain, [\chain]              @ chain = the running task's chain
    .endm

@ LIMITS bottom, tcb, scratch: the running task's limits for a segment whose lowest address
@ is bottom: __STACK_LIMIT and its saved copy the slack (and on the M3 the guard) above it,
@ and on the M33 the bottom itself for PSPLIM (loaded once SP has moved). Clobbers scratch.
    .macro LIMITS bottom, tcb, scratch
#if defined(KEEL_ARMV8M)
    str   \bottom, [\tcb, #TCB_STACK_LIMIT] @ context.stackLimit = the bottom (PSPLIM)
#endif
    ldr   \scratch, =keel_segment_slack
    ldr   \scratch, [\scratch]          @ scratch = the slack
    adds  \scratch, \scratch, \bottom    @ scratch = the limit
#if defined(KEEL_SEGMENT_GUARD)
    adds  \scratch, #GUARD_BYTES      @ ... above the guard's bytes too
#endif
    str   \scratch, [\tcb, #TCB_SPLIT_LIMIT] @ context.splitLimit = the limit
    ldr   \tcb, =__STACK_LIMIT
    str   \scratch, [\tcb]              @ __STACK_LIMIT = the limit (tcb is clobbered)
    .endm

@ GUARD bottom, tcb, s1, s2: on the M3 (KEEL_SEGMENT_GUARD), the running task's MPU guard
@ moves to the segment whose lowest address is bottom (Kernel/Segments/SegmentGuard.swift):
@ its saved first switch region, and the MPU's, with one RBAR write. Clobbers s1, s2.
@ No barrier: until the write takes effect the old region still guards the old segment and
@ the new one is not yet armed, while this code touches neither segment's lowest bytes; the
@ exception return or interrupt that could next matter synchronizes anyway.
    .macro GUARD bottom, tcb, s1, s2
#if defined(KEEL_SEGMENT_GUARD)
    movs  \s1, #GUARD_RBAR_OFFSET
    adds  \s1, \s1, \bottom           @ s1 = RBAR: the region above the new bottom's landing pad
    str   \s1, [\tcb, #TCB_GUARD_RBAR] @ what the next switch-in loads
    ldr   \s2, =MPU_RBAR
    str   \s1, [\s2]                  @ RBAR with VALID: selects the region and moves it now
#endif
    .endm

    .global __morestack
    .type __morestack, %function
    .thumb_func
__morestack:
    push  {r0-r3, lr}               @ old stack: [r0-r3][stub][lr_f][r4_c][r5_c][args]
    mrs   r3, primask               @ r3 = the task's interrupt mask
    cpsid i                         @ no switch while the chain, the segment and the limits change
    mrs   r0, ipsr                  @ r0 = the exception being handled, 0 in a task
    cmp   r0, #0
    bne   .Lgrow_in_swift           @ a handler's split: Swift reports the handler overflow
    CHAIN r2                        @ r2 = the task's chain
    ldr   r1, [r2, #CHAIN_SPARE]    @ r1 = its spare segment's header, 0 if none
    cmp   r1, #0
    beq   .Lgrow_in_swift           @ no spare: Swift takes a segment from the pool
    mov   r12, r3                   @ r12 = the mask (r3 is needed)
    ldr   r3, =keel_segment_fit
    ldr   r3, [r3]                  @ r3 = what a segment holds besides frame and arguments
    adds  r3, r3, r4
    adds  r3, r3, r5                @ r3 = bytes this function needs in a segment
    ldr   r0, [r1, #HEADER_BYTES]   @ r0 = the spare's size
    cmp   r3, r0
    bhi   .Lspare_too_small         @ too small: Swift gives it back and takes a larger one
    ldr   r3, [r2, #CHAIN_HELD]
    adds  r3, r3, r0
    str   r3, [r2, #CHAIN_HELD]     @ held += the spare's size
    ldr   r3, [r2, #CHAIN_SEGMENTS]
    adds  r3, r3, #1
    str   r3, [r2, #CHAIN_SEGMENTS] @ one more segment in use
    ldr   r3, [r2, #CHAIN_SPLITS]
    adds  r3, r3, #1
    str   r3, [r2, #CHAIN_SPLITS]   @ one more split served
    ldr   r3, [r2, #CHAIN_CURRENT]
    str   r3, [r1, #HEADER_PREVIOUS] @ the spare goes on top of the chain ...
    str   r1, [r2, #CHAIN_CURRENT]  @ ... and is the segment in use
    movs  r3, #0
    str   r3, [r2, #CHAIN_SPARE]    @ no spare while it is in use
    mov   r3, sp
    str   r3, [r1, #HEADER_RETURN_SP] @ release goes back to this SP
    ldr   r0, [r1, #HEADER_BOTTOM]  @ r0 = the spare's bottom
    ldr   r2, =keel_scheduler
    ldr   r2, [r2]                  @ r2 = the running task
    GUARD r0, r2, r3, r4            @ the guard moves to the spare's bottom (r4 is free until the mask)
    LIMITS r0, r2, r3               @ the limits move to the spare
    subs  r0, r1, r5                @ r0 = the header less the arguments
    lsrs  r0, r0, #3
    lsls  r0, r0, #3                @ r0 = new SP: the arguments start 8-byte aligned below the header
    mov   r4, r12                   @ r4 = the mask, where the slow path leaves it
    b     .Lgrown
.Lspare_too_small:
    mov   r3, r12                   @ r3 = the mask again
.Lgrow_in_swift:
    mov   r0, r4                    @ r0 = frame bytes the function needs
    mov   r1, r5                    @ r1 = bytes of its stack arguments
    mov   r2, sp                    @ r2 = old SP, kept in the new segment's header
    mov   r4, r3                    @ r4 = the mask (grow keeps r4, r5)
    bl    keel_segment_grow         @ r0 = new SP (room for the arguments), or 0: grown in place
    cmp   r0, #0
    beq   .Lgrown_in_place
.Lgrown:                            @ r0 = new SP (where the arguments go), r4 = mask, r5 = argument bytes
    add   r1, sp, #32               @ r1 = the stack arguments on the old stack (past r4_c, r5_c)
    cmp   r5, #0
    beq   2f                        @ no stack arguments (the common case): nothing to copy
1:  subs  r5, r5, #4                @ copy one word, top first (flags from subs)
    ldr   r2, [r1, r5]
    str   r2, [r0, r5]
    bne   1b                        @ ... down to offset 0
2:  mov   r1, sp                    @ r1 = old SP
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
    adds  r4, r4, #10               @ r4 = the body past its first instruction, pop {r4, r5} ...
    mov   r12, r4                   @ r12 = there
    ldr   r4, [r1, #24]             @ ... which is done here instead: r4 = r4_c
    ldr   r5, [r1, #28]             @ r5 = r5_c (so neither is copied to the new segment)
    ldm   r1, {r0-r3}               @ r0-r3 = the function's arguments (r1 last: no writeback)
    blx   r12                       @ run the function on the new segment; r0-r3 = its result

    push  {r0-r3}                   @ keep the result on the new segment (nothing reuses it while masked)
    mrs   r4, primask               @ r4 = the task's interrupt mask
    cpsid i                         @ no switch while the segment goes back and the limits move
    CHAIN r2                        @ r2 = the task's chain
    ldr   r1, [r2, #CHAIN_SPARE]
    cmp   r1, #0
    bne   .Lrelease_in_swift        @ a spare already: Swift gives this segment back to the pool
    ldr   r0, =keel_scheduler
    ldr   r0, [r0]                  @ r0 = the running task
    ldr   r1, [r2, #CHAIN_CURRENT]  @ r1 = the segment being left
    str   r1, [r2, #CHAIN_SPARE]    @ it stays with the task as its spare
    ldr   r5, [r1, #HEADER_BYTES]
    ldr   r3, [r2, #CHAIN_HELD]
    subs  r3, r3, r5
    str   r3, [r2, #CHAIN_HELD]     @ held -= its size
    ldr   r3, [r2, #CHAIN_SEGMENTS]
    subs  r3, r3, #1
    str   r3, [r2, #CHAIN_SEGMENTS] @ one segment fewer in use
    ldr   r5, [r1, #HEADER_RETURN_SP] @ r5 = the old SP
    ldr   r3, [r1, #HEADER_PREVIOUS] @ r3 = the segment below (0: the first) ...
    str   r3, [r2, #CHAIN_CURRENT]  @ ... is in use again
    cmp   r3, #0
    beq   1f
    ldr   r1, [r3, #HEADER_BOTTOM]  @ r1 = the bottom of the segment below
    b     2f
1:  ldr   r1, [r2, #CHAIN_FIRST_BOTTOM] @ r1 = the task's first segment's bottom
2:  GUARD r1, r0, r2, r3            @ the guard moves back (the chain in r2 is done with)
    LIMITS r1, r0, r3               @ the limits move back
    b     .Lreleased
.Lrelease_in_swift:
    bl    keel_segment_release      @ r0 = the old SP; __STACK_LIMIT is the old segment's again
    mov   r5, r0                    @ r5 = old SP
.Lreleased:
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
    msr   primask, r4               @ interrupts as the task had them
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
