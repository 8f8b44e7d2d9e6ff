// `keel layout` as text and as JSON: every block of RAM in address order, the MPU regions
// programmed at boot and the ones each task's switch-in loads (with the register words the
// kernel writes), and what the MPU's rules cost in bytes.
//
// Both are read from the RAMLayout `keel build` links with, so they cannot disagree with the
// image. Addresses are always written 0x%08x; ranges are [start, end).

import Foundation

public enum LayoutReport {
    // MARK: Text

    public static func text(_ layout: RAMLayout, application: Application, board: Board) -> String {
        [
            header(layout, application: application, board: board),
            "Tasks\n" + taskTable(layout, application: application, board: board),
            objectTable(application),
            "RAM, in address order\n" + blockTable(layout),
            "MPU regions\n" + regionTable(layout, application: application),
            "What the MPU's rules cost\n" + wasteSummary(layout),
        ].filter { !$0.isEmpty }.joined(separator: "\n\n") + warningText(layout, application: application, board: board)
    }

    static func warningText(_ layout: RAMLayout, application: Application, board: Board) -> String {
        let warnings = ProtectionWarnings.warnings(layout, application: application, board: board)
        return warnings.isEmpty ? "" : "\n\nWarnings\n" + warnings.map { "  warning: " + $0 }.joined(separator: "\n")
    }

    static func header(_ layout: RAMLayout, application: Application, board: Board) -> String {
        let mpu = layout.mpu == .none ? "no MPU" : "\(layout.mpu.displayName) MPU with \(board.mpuRegions) regions"
        let ramBytes = layout.ramEnd - UInt64(layout.ramStart)
        return "\(application.name) on \(board.name) (\(board.cpu)): \(mpu); "
            + "RAM \(hex(layout.ramStart))-\(hex(layout.ramEnd)) (\(ramBytes / 1024) KiB)"
    }

    /// Each task's stack and protection; "(default)" marks the board's default. A segmented
    /// task under the M3's segment guard shows it (it is no manifest protection of its own).
    static func taskTable(_ layout: RAMLayout, application: Application, board: Board) -> String {
        var rows = [["task", "stack", "protection"]]
        for (task, placement) in zip(application.tasks, layout.taskStacks) {
            var names = task.protections.sorted().map(\.rawValue)
            if task.segmented != nil && application.usesSegmentGuard(on: board) { names.append("segment-guard") }
            let techniques = names.isEmpty ? "none" : names.joined(separator: ", ")
            rows.append([task.name, String(placement.bytes) + (task.automaticStack ? " (auto)" : ""),
                         techniques + (task.protectionIsDefault ? " (default)" : "")])
        }
        return RunReport.table(rows, rightAligned: [1])
    }

    /// The queues, semaphores and mutexes the manifest declares and the RAM each takes (in the
    /// application's .data/.bss, inside the "data, bss, heap" block below); empty without any.
    static func objectTable(_ application: Application) -> String {
        let objects = application.objects
        guard !objects.isEmpty else { return "" }
        var rows = [["object", "kind", "bytes", "what"]]
        for object in objects.summary { rows.append([object.name, object.kind, String(object.bytes), object.detail]) }
        rows.append(["", "", String(objects.totalBytes), "in data, bss, heap"])
        return "Kernel objects\n" + RunReport.table(rows, rightAligned: [2])
    }

    static func blockTable(_ layout: RAMLayout) -> String {
        var rows = [["start", "end", "bytes", "kind", "label"]]
        for block in layout.blocks {
            rows.append([hex(block.start), hex(block.end), String(block.bytes), block.kind.rawValue, block.label])
        }
        return RunReport.table(rows, rightAligned: [2])
    }

    static func regionTable(_ layout: RAMLayout, application: Application) -> String {
        guard layout.mpu != .none else { return "none: this board has no MPU, so nothing is programmed" }
        let limitWord = layout.mpu == .pmsav7 ? "RASR" : "RLAR"
        var rows = [["loaded", "region", "base", "size", "subregions", "access", "purpose", "RBAR", limitWord]]
        if layout.fixedRegions.isEmpty {
            rows.append(["at boot", "-", "", "", "", "", "none", "", ""])
        }
        for region in layout.fixedRegions {
            let words = region.registerWords(for: layout.mpu)
            rows.append(["at boot"] + regionCells(region, mpu: layout.mpu) + [hex(words[0]), hex(words[1])])
        }
        let switches = zip(application.tasks.map(\.name), layout.switchRegions) + [("idle", layout.idleSwitchRegions)]
        for (task, switchIn) in switches {
            for slot in switchSlots(switchIn, layout: layout) {
                let words = [hex(slot.words[0]), hex(slot.words[1])]
                if let region = slot.region {
                    rows.append(["switch-in \(task)"] + regionCells(region, mpu: layout.mpu) + words)
                } else {
                    rows.append(["switch-in \(task)", String(slot.number), "", "", "", "", "disabled"] + words)
                }
            }
        }
        return RunReport.table(rows, rightAligned: [1, 3])
    }

    static func regionCells(_ region: MPURegion, mpu: MPUKind) -> [String] {
        [String(region.number), hex(region.base), String(region.size), subregionText(region, mpu: mpu),
         region.access.rawValue, region.purpose]
    }

    /// One of the two regions a switch-in writes: the region, or nil when the slot is switched off.
    struct SwitchSlot {
        var number: Int
        var region: MPURegion?
        var words: [UInt32]
    }

    /// The two slots of a switch-in, in the order the kernel writes them.
    static func switchSlots(_ switchIn: SwitchRegions, layout: RAMLayout) -> [SwitchSlot] {
        (0..<2).map { slot in
            let number = layout.firstSwitchRegion + slot
            let words = switchIn.words.count >= 2 * slot + 2 ? Array(switchIn.words[2 * slot..<2 * slot + 2]) : [0, 0]
            return SwitchSlot(number: number, region: switchIn.regions.first { $0.number == number }, words: words)
        }
    }

    static func wasteSummary(_ layout: RAMLayout) -> String {
        let waste = layout.waste
        let rows = [
            ["cost", "bytes", "what it is"],
            ["padding", String(waste.padding), "added to stacks to meet region sizes (the task may use them)"],
            ["alignment", String(waste.alignment), "gaps left between stacks to meet region alignment"],
            ["coverage", String(waste.coverage), "no-access bytes past the last T2 stack (sub-region boundary)"],
            ["total", String(waste.total),
             "plain power-of-two rounding would waste \(waste.powerOfTwoBaseline) bytes"],
        ]
        return RunReport.table(rows, rightAligned: [1])
    }

    // MARK: JSON

    public static func json(_ layout: RAMLayout, application: Application, board: Board) -> String {
        let object = jsonObject(layout, application: application, board: board)
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func jsonObject(_ layout: RAMLayout, application: Application, board: Board) -> [String: Any] {
        var switches: [String: Any] = [:]
        for (task, switchIn) in zip(application.tasks.map(\.name), layout.switchRegions) + [("idle", layout.idleSwitchRegions)] {
            switches[task] = [
                "regions": switchIn.regions.map { regionObject($0, mpu: layout.mpu) },
                "words": switchIn.words.map { hex($0) },
            ] as [String: Any]
        }
        let waste = layout.waste
        return [
            "warnings": ProtectionWarnings.warnings(layout, application: application, board: board),
            "protections": Dictionary(uniqueKeysWithValues: application.tasks.map {
                ($0.name, ["techniques": $0.protections.sorted().map(\.rawValue), "default": $0.protectionIsDefault] as [String: Any])
            }),
            "application": application.name,
            "board": board.name,
            "mpu": layout.mpu.rawValue,
            "mpu_regions": board.mpuRegions,
            "first_switch_region": layout.firstSwitchRegion,
            "ram": ["start": hex(layout.ramStart), "end": hex(layout.ramEnd)],
            "stack_area": ["start": hex(layout.stackAreaStart), "bytes": Int(layout.stackAreaBytes)] as [String: Any],
            "stacks": layout.allStacks.map { stack in
                [
                    "name": stack.name, "bottom": hex(stack.bottom), "top": hex(stack.top),
                    "bytes": Int(stack.bytes), "requested": Int(stack.requestedBytes),
                    "guard_bottom": hex(stack.guardBottom), "guard_bytes": Int(stack.guardBytes),
                ] as [String: Any]
            },
            "blocks": layout.blocks.map { block in
                [
                    "kind": block.kind.rawValue, "label": block.label, "start": hex(block.start),
                    "end": hex(block.end), "bytes": Int(block.bytes),
                ] as [String: Any]
            },
            "fixed_regions": layout.fixedRegions.map { regionObject($0, mpu: layout.mpu) },
            "switch_regions": switches,
            "waste": [
                "padding": Int(waste.padding), "alignment": Int(waste.alignment), "coverage": Int(waste.coverage),
                "total": Int(waste.total), "power_of_two_baseline": Int(waste.powerOfTwoBaseline),
            ],
            "reset_record": hex(layout.resetRecord),
            "objects": application.objects.summary.map { ["name": $0.name, "kind": $0.kind, "bytes": $0.bytes, "what": $0.detail] as [String: Any] },
            "data": ["start": hex(layout.dataStart), "end": hex(layout.dataEnd)],
        ]
    }

    static func regionObject(_ region: MPURegion, mpu: MPUKind) -> [String: Any] {
        var object: [String: Any] = [
            "number": region.number, "base": hex(region.base), "size": Int(region.size),
            "end": hex(UInt64(region.base) + UInt64(region.size)),
            "access": region.access.rawValue, "purpose": region.purpose,
            "words": region.registerWords(for: mpu).map { hex($0) },
        ]
        if mpu == .pmsav7 {
            object["enabled_subregions"] = (0..<8).filter { region.disabledSubregions & (1 << $0) == 0 }
        }
        return object
    }

    // MARK: Formatting

    /// PMSAv7's enabled sub-regions as "subregions 0-5" ("all" when none is disabled); "-" where
    /// there are none (PMSAv8, or a PMSAv7 region under 256 bytes).
    static func subregionText(_ region: MPURegion, mpu: MPUKind) -> String {
        guard mpu == .pmsav7, region.size >= 256 else { return "-" }
        guard region.disabledSubregions != 0 else { return "all" }
        let enabled = (0..<8).filter { region.disabledSubregions & (1 << $0) == 0 }
        guard !enabled.isEmpty else { return "none" }
        var runs: [ClosedRange<Int>] = []
        for index in enabled {
            if let last = runs.last, last.upperBound + 1 == index {
                runs[runs.count - 1] = last.lowerBound...index
            } else {
                runs.append(index...index)
            }
        }
        let text = runs.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
        return "subregions " + text.joined(separator: ",")
    }

}
