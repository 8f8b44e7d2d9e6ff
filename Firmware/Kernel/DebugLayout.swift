// What a debugger reads to show the tasks of a running image without debug info (`keel top`
// over the GDB remote protocol): the offsets of the fields it shows, in one table at a fixed
// symbol. The numbers are literals, so the table is plain data in flash; `Kernel.start`
// checks them against the compiler's layout (folded away when they agree, a trap at boot
// when a field moved and this table was not updated).

/// Words: magic "KEEL", version, TCB stride, then offsets in the TCB of the saved SP, state,
/// priority, protections, stack bottom, stack top, name (pointer, then byte count), the object
/// waited on; then the TaskHistory stride and its high-water and fault-count offsets; then (from
/// version 2) the offset in the TCB of the tick the current wait began; then (from version 3)
/// the TaskHistory offsets of how far its overflows reached, how many there were, and whose
/// overflow harmed it (so `keel top` says why a task was stopped, as the stack table does);
/// then (version 4) the offsets in `keel_scheduler` of the running task, of the task table
/// (after the rank table, except on ARMv6-M: Scheduler.swift) and of the notification waiters.
/// (Three copies: a hard-float image's control block is 256 bytes; ARMv6-M's scheduler has no
/// rank table in front.)
#if KEEL_FPU
@_silgen_name("keel_debug_layout")
let debugLayout: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                  UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
    (0x4C45_454B, 4, 256, 0, 64, 66, 67, 76, 80, 96, 120, 24, 0, 9, 116, 4, 10, 8, 128, 132, 160)
#elseif KEEL_ARMV6M
@_silgen_name("keel_debug_layout")
let debugLayout: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                  UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
    (0x4C45_454B, 4, 128, 0, 64, 66, 67, 76, 80, 96, 120, 24, 0, 9, 116, 4, 10, 8, 0, 4, 32)
#else
@_silgen_name("keel_debug_layout")
let debugLayout: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                  UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
    (0x4C45_454B, 4, 128, 0, 64, 66, 67, 76, 80, 96, 120, 24, 0, 9, 116, 4, 10, 8, 128, 132, 160)
#endif

enum DebugLayout {
    /// True when every offset in the table is the compiler's.
    static var matchesCompiler: Bool {
        let table = debugLayout
        typealias T = TaskControlBlock
        return table.2 == UInt32(MemoryLayout<T>.stride)
            && table.3 == UInt32(MemoryLayout<T>.offset(of: \T.context.stackPointer) ?? 0)
            && table.4 == UInt32(MemoryLayout<T>.offset(of: \T.state) ?? 0)
            && table.5 == UInt32(MemoryLayout<T>.offset(of: \T.priority) ?? 0)
            && table.6 == UInt32(MemoryLayout<T>.offset(of: \T.protections) ?? 0)
            && table.7 == UInt32(MemoryLayout<T>.offset(of: \T.stackBottom) ?? 0)
            && table.8 == UInt32(MemoryLayout<T>.offset(of: \T.stackTop) ?? 0)
            && table.9 == UInt32(MemoryLayout<T>.offset(of: \T.name) ?? 0)
            && table.10 == UInt32(MemoryLayout<T>.offset(of: \T.waitingOn) ?? 0)
            && table.11 == UInt32(MemoryLayout<TaskHistory>.stride)
            && table.12 == UInt32(MemoryLayout<TaskHistory>.offset(of: \TaskHistory.highWater) ?? 0)
            && table.13 == UInt32(MemoryLayout<TaskHistory>.offset(of: \TaskHistory.faults) ?? 0)
            && table.14 == UInt32(MemoryLayout<T>.offset(of: \T.waitStart) ?? 0)
            && table.15 == UInt32(MemoryLayout<TaskHistory>.offset(of: \TaskHistory.overflowBytes) ?? 0)
            && table.16 == UInt32(MemoryLayout<TaskHistory>.offset(of: \TaskHistory.overflows) ?? 0)
            && table.17 == UInt32(MemoryLayout<TaskHistory>.offset(of: \TaskHistory.harmedBy) ?? 0)
            && table.18 == UInt32(MemoryLayout<SchedulerState>.offset(of: \SchedulerState.current) ?? 0)
            && table.19 == UInt32(MemoryLayout<SchedulerState>.offset(of: \SchedulerState.tasks) ?? 0)
            && table.20 == UInt32(MemoryLayout<SchedulerState>.offset(of: \SchedulerState.notificationWaiters) ?? 0)
    }
}
