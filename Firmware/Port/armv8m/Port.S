@ Keel port for ARMv8-M Mainline (Cortex-M33): the ARMv7-M port plus the stack-limit registers.
@
@ Why assembly: PSPLIM and MSPLIM are special registers only `msr` can write, and the rest of
@ the port is the ARMv7-M assembly (see there for why).
@
@ The context switch, first-task start and fault entry are the ARMv7-M instructions
@ unchanged (ARMv8-M Mainline keeps the ARMv7-M exception model and frame layout); the
@ kernel runs in the Secure state QEMU's mps2-an505 boots in. What ARMv8-M adds and Keel
@ uses is PSPLIM, loaded from the task control block at every switch-in (T1), and MSPLIM,
@ the handler stack's limit. Including the ARMv7-M file instead of copying it keeps one
@ switch path to read and to test.
#define KEEL_HAS_PSPLIM 1
#include "../armv7m/Port.S"
