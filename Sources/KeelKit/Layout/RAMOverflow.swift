// A layout whose stacks fit but leave too little RAM for the image's data, told in the
// manifest's terms.
//
// Why: the planner places the stacks before anything is compiled, keeping at least
// `LayoutPlanner.minimumDataBytes` for data, bss and the heap; only the linker knows how much
// the image really needs. When it needs more, ld.lld says "section '.bss' will not fit in
// region 'RAM': overflowed by N bytes", which names no stack and no key. This turns that
// into which stacks take the RAM, how many bytes are missing, and what to change.

import Foundation

public enum RAMOverflow {
    /// The bytes ld.lld says the RAM overflowed by (nil: some other link error).
    static func overflowBytes(inLinkerOutput output: String) -> Int? {
        guard let region = output.range(of: "will not fit in region 'RAM': overflowed by ") else { return nil }
        return Int(output[region.upperBound...].prefix { $0.isNumber })
    }

    /// `error` in the manifest's terms when it is the linker's RAM overflow; else `error`.
    static func explained(_ error: KeelError, layout: RAMLayout, application: Application, board: Board) -> KeelError {
        guard case .buildFailed(let step, let output) = error, step == "ld.lld",
              let missing = overflowBytes(inLinkerOutput: output) else { return error }
        return .layoutImpossible(explanation(missingBytes: missing, layout: layout, application: application, board: board))
    }

    /// What takes the RAM, by how much it is over, what to change.
    static func explanation(missingBytes: Int, layout: RAMLayout, application: Application, board: Board) -> String {
        var stacks = zip(application.tasks, layout.taskStacks).map { task, placement in
            "\(task.name) \(placement.bytes + placement.guardBytes)"
        }
        stacks.append("handler \(layout.handlerStack.bytes + layout.handlerStack.guardBytes)")
        stacks.append("idle \(layout.idleStack.bytes)")
        if let pool = layout.segmentPool { stacks.append("segment pool \(pool.bytes)") }
        let stackBytes = Int(layout.stacksEnd) - Int(layout.ramStart)
        let dataBytes = Int(layout.dataEnd) - Int(layout.dataStart)
        let automatic = application.tasks.filter { !$0.automaticStack && $0.segmented == nil }.isEmpty ? ""
            : " (\"stack\": \"auto\" sizes a stack to its worst case)"
        return "the image's data, bss and heap need \(missingBytes) bytes more than \(board.name)'s \(board.ram.length) bytes of RAM "
            + "leave them: the stacks take \(stackBytes) bytes (\(stacks.joined(separator: ", ")), with guards and padding), "
            + "leaving \(dataBytes); make the stacks \(missingBytes) bytes smaller in all\(automatic), or lower \"handler_stack\""
            + (layout.segmentPool == nil ? "" : " or \"segment_pool\"") + ", or use fewer tasks"
    }
}
