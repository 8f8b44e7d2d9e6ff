// What a layout leaves unprotected, said before anything runs: tasks with no protection, and
// for every task protected by software alone, whose memory its overflow can write.
//
// T4 and T5 find an overflow after it happened; the kernel then stops every task whose
// stack was written (Firmware/Kernel/Containment.swift), but their work is lost. Knowing the
// neighbour below each such stack lets a user reorder tasks or add a hardware technique.

public enum ProtectionWarnings {
    public static func warnings(_ layout: RAMLayout, application: Application, board: Board) -> [String] {
        var warnings: [String] = []
        for (index, task) in application.tasks.enumerated() {
            let unprotected = task.protections.subtracting([.paint]).isEmpty
            if unprotected && task.segmented == nil {
                warnings.append("task '\(task.name)' has no overflow protection (\"protection\": \(task.protections.isEmpty ? "[]" : "[\"paint\"]")): "
                    + "an overflow goes unnoticed; omit the key for \(board.name)'s default (\(describe(board.defaultProtections)))")
            }
            guard task.segmented == nil, !unprotected, !board.stopsWritesBeforeTheyHappen(task.protections) else { continue }
            let bottom = layout.taskStacks[index].guardBottom
            let below = layout.blocks.filter { $0.end <= UInt64(bottom) && $0.kind != .padding && $0.kind != .unused }
                .max { $0.start < $1.start }
            let neighbour = below.map { $0.label == "handler" ? "the handler stack (nothing live there while a task runs)"
                                                              : "\($0.kind.rawValue) '\($0.label)'" } ?? "the end of RAM"
            warnings.append("task '\(task.name)' is protected by software only (\(describe(task.protections))): its overflow "
                + "writes into \(neighbour) below it before it is caught; the kernel then stops that task")
        }
        return warnings
    }

    static func describe(_ protections: Set<Protection>) -> String {
        protections.isEmpty ? "none" : protections.sorted().map(\.rawValue).joined(separator: ", ")
    }
}
