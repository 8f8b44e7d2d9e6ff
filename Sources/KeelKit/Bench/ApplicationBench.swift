// `keel bench --app DIR`: what switching costs in the user's own application, and what its
// segmented stacks did, from one run under the instruction counter.
//
// Every context switch is one window of the counter: from PendSV's first instruction
// (`keel_pendsv_handler`) to its exception return (`keel_pendsv_return`, a label in each port
// on the returning instruction, counted in). That is the kernel's whole switch: saving the
// outgoing task, the switch-out detectors, choosing the next task and loading its context
// and protection. The application's own loops are not in it, unlike bench-switch's figure.

import Foundation

public struct ApplicationBenchResult: Sendable, Codable, Equatable {
    public var application: String
    public var board: String
    public var switches: Int
    /// Mean instructions of one switch over the whole run; fewest and most among the first
    /// 4096 switches (what the counter lists one by one).
    public var perSwitch: Double
    public var fewest: UInt64
    public var most: UInt64
    /// Every instruction the run executed, and the share of them spent switching.
    public var totalInstructions: UInt64
    public var switchShare: Double
    /// The run's exit code (nil: stopped at the timeout).
    public var exitCode: Int32?
    /// Per segmented task: splits, pool allocations and peak segments; empty without segments.
    public var segments: [SegmentRecord]
}

public struct ApplicationBench: Sendable {
    public var bench: ContextSwitchBench
    public static let switchEntry = "keel_pendsv_handler"
    public static let switchReturn = "keel_pendsv_return"

    public init(bench: ContextSwitchBench) { self.bench = bench }

    public func measure(_ application: Application, on board: Board, timeoutSeconds: Double) throws(KeelError) -> ApplicationBenchResult {
        let image = try bench.builder.buildChecked(application, for: board).image
        let elf: ELFFile
        do { elf = try ELFFile(contentsOf: image.elf) } catch { throw .elf(error.description) }
        guard let entry = elf.address(ofSymbol: Self.switchEntry), let exit = elf.address(ofSymbol: Self.switchReturn) else {
            throw .runFailed("\(image.elf.path) has no \(Self.switchEntry)/\(Self.switchReturn): build it with this keel")
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("keel-app-count-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: output) }
        let options = RunOptions(timeoutSeconds: timeoutSeconds,
                                 extraArguments: bench.plugin.qemuArguments(starts: [entry], stop: exit, output: output))
        let result = try bench.runner.run(image, options: options)
        let counted: InstructionCount
        do { counted = try InstructionCount.read(from: output) } catch {
            throw .runFailed("instruction counter for \(application.name) on \(board.name): \(error)")
        }
        // The stop instruction is not in its window; the exception return is part of the switch.
        // The mean is over every switch; fewest and most over the first ones the plugin lists.
        let each = counted.each.map { $0 + 1 }
        let switches = UInt64(counted.windows)
        return ApplicationBenchResult(
            application: application.name, board: board.name, switches: counted.windows,
            perSwitch: switches == 0 ? 0 : Double(counted.counted + switches) / Double(switches), fewest: each.min() ?? 0, most: each.max() ?? 0,
            totalInstructions: counted.total, switchShare: counted.total == 0 ? 0 : Double(counted.counted + UInt64(counted.windows)) / Double(counted.total),
            exitCode: result.exitCode, segments: result.segments.filter { $0.kind == .task })
    }
}
