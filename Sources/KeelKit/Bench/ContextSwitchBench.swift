// Measures instructions per context switch for each protection, against the unprotected switch.
//
// The bench-switch example runs 2000 yields between two equal-priority tasks with no tick;
// the instruction-counter plugin counts everything QEMU executes between the markers. Each
// variant is run twice: the counts must be identical, or the figure is not reported as exact.

import Foundation

public struct SwitchVariant: Sendable, Equatable {
    public var label: String
    public var protections: Set<Protection>
    public var redZoneBytes: Int
    /// The image's float ABI (nil: the board's default).
    public var float: FloatABI? = nil
    /// Both tasks execute an FP instruction before the measured loop: every switch saves and
    /// loads s16-s31 and the hardware stacks s0-s15 (lazily) for both.
    public var floatingPointTasks = false

    public static let softImage = "none, soft-float image"
    public static let floatingPointTasksLabel = "none, both tasks use the FPU"

    public static func variants(for board: Board) -> [SwitchVariant] {
        var list = [
            SwitchVariant(label: "none", protections: [], redZoneBytes: 0),
            SwitchVariant(label: "T5 SP check", protections: [.stackPointerCheck], redZoneBytes: 0),
            SwitchVariant(label: "T4 red zone (16 B)", protections: [.redZone], redZoneBytes: 16),
            SwitchVariant(label: "T4 + T5", protections: [.redZone, .stackPointerCheck], redZoneBytes: 16),
        ]
        if board.fpu != nil {
            // The same switch without FPU support in the image, and between two FP tasks.
            list.append(SwitchVariant(label: softImage, protections: [], redZoneBytes: 0, float: .soft))
            list.append(SwitchVariant(label: floatingPointTasksLabel, protections: [], redZoneBytes: 0, floatingPointTasks: true))
        }
        if board.hasStackLimitRegisters {
            list.append(SwitchVariant(label: "T1 PSPLIM", protections: [.limitRegister], redZoneBytes: 0))
        }
        if board.mpu != .none {
            list.append(SwitchVariant(label: "T2 MPU region", protections: [.mpuRegion], redZoneBytes: 0))
            list.append(SwitchVariant(label: "T3 MPU guard", protections: [.mpuGuard], redZoneBytes: 0))
        }
        return list
    }
}

public struct SwitchCost: Sendable, Equatable, Codable {
    public var board: String
    public var variant: String
    public var switches: Int
    public var instructions: UInt64
    public var perSwitch: Double
    /// perSwitch divided by the unprotected switch's, same board, same run.
    public var ratio: Double
    /// Both runs gave the same count.
    public var repeatable: Bool
}

public struct ContextSwitchBench: Sendable {
    public static let switches = 2000
    public var builder: FirmwareBuilder
    public var runner: QEMURunner
    public var plugin: InstructionCounterPlugin

    public init(builder: FirmwareBuilder, runner: QEMURunner, plugin: InstructionCounterPlugin) {
        self.builder = builder
        self.runner = runner
        self.plugin = plugin
    }

    /// Builds the counter plugin into Keel's .build folder (once per source version).
    public static func makePlugin() throws(KeelError) -> InstructionCounterPlugin {
        do {
            return try InstructionCounterPlugin.build(
                source: InstructionCounterPlugin.defaultSource(packageRoot: KeelRoot.url),
                into: KeelRoot.cache.appendingPathComponent("plugins"))
        } catch {
            throw .buildFailed(step: "instruction-counter plugin", output: String(describing: error))
        }
    }

    /// One of Keel's bench examples, to be built in the cache (never into the source tree).
    public static func example(_ name: String, board: Board) throws(KeelError) -> Application {
        var application = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent(name), board: board)
        application.buildFolder = KeelRoot.cache.appendingPathComponent("bench")
        return application
    }

    public func measure(on board: Board) throws(KeelError) -> [SwitchCost] {
        let base = try Self.example("bench-switch", board: board)
        func application(_ variant: SwitchVariant) -> Application {
            var application = base
            application.name = "bench-switch-" + variant.label.lowercased().filter { $0.isLetter || $0.isNumber }
            application.tasks = base.tasks.map { $0.with(protections: variant.protections, redZoneBytes: variant.redZoneBytes) }
            if let float = variant.float { application.float = float }
            if variant.floatingPointTasks {
                application.tasks = application.tasks.map { task in
                    var task = task
                    task.entry += "UsingTheFPU"
                    return task
                }
            }
            return application
        }
        builder.buildAll(SwitchVariant.variants(for: board).map { FirmwareBuilder.Job(application($0)) }, for: board)
        var rows: [SwitchCost] = []
        for variant in SwitchVariant.variants(for: board) {
            let image = try builder.build(application(variant), for: board)
            let first = try count(image)
            let second = try count(image)
            let perSwitch = Double(first) / Double(Self.switches)
            let baseline = rows.first?.perSwitch ?? perSwitch
            rows.append(SwitchCost(board: board.name, variant: variant.label, switches: Self.switches,
                                   instructions: first, perSwitch: perSwitch, ratio: perSwitch / baseline,
                                   repeatable: first == second))
        }
        return rows
    }

    /// Instructions executed between the bench markers in one run of `image`.
    public func count(_ image: FirmwareImage) throws(KeelError) -> UInt64 {
        let measured = try windows(image)
        guard measured.windows == 1 else { throw .runFailed("expected one measured window, got \(measured.windows)") }
        return measured.counted
    }

    /// Every window one run of `image` measured: each opens at `keel_bench_start` or at one of
    /// `alsoStartingAt` (symbols, e.g. an interrupt handler's entry) and closes at `keel_bench_stop`.
    public func windows(_ image: FirmwareImage, alsoStartingAt symbols: [String] = []) throws(KeelError) -> InstructionCount {
        try counted(image, alsoStartingAt: symbols).count
    }

    /// `windows`, with the run they were counted in (its records: what the console lost, say).
    /// `countingExceptions`: the windows also count every exception handler entered (the
    /// vector table's handlers: `InstructionCount.entries`).
    public func counted(_ image: FirmwareImage, alsoStartingAt symbols: [String] = [],
                        countingExceptions: Bool = false) throws(KeelError) -> (count: InstructionCount, run: RunResult) {
        let elf: ELFFile
        do { elf = try ELFFile(contentsOf: image.elf) } catch { throw .elf(error.description) }
        guard let start = elf.address(ofSymbol: "keel_bench_start"), let stop = elf.address(ofSymbol: "keel_bench_stop") else {
            throw .runFailed("\(image.elf.path) has no keel_bench_start/keel_bench_stop markers")
        }
        var starts = [start]
        for symbol in symbols {
            guard let address = elf.address(ofSymbol: symbol) else { throw .runFailed("\(image.elf.path) has no \(symbol)") }
            starts.append(address)
        }
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("keel-count-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: output) }
        let entries = countingExceptions ? try Self.handlerEntries(elf, board: image.board) : []
        let options = RunOptions(timeoutSeconds: 60, extraArguments: plugin.qemuArguments(starts: starts, stop: stop, output: output, entries: entries))
        let result = try runner.run(image, options: options)
        guard result.exitCode == 0 else {
            throw .runFailed("benchmark \(image.application.name) on \(image.board.name) did not finish cleanly: \(result.qemuErrors)")
        }
        do { return (try InstructionCount.read(from: output), result) } catch {
            throw .runFailed("instruction counter: \(error)")
        }
    }

    /// The first instruction of every exception handler in the image's vector table (from
    /// NMI on; the reset handler runs once, before any window).
    static func handlerEntries(_ elf: ELFFile, board: Board) throws(KeelError) -> [UInt32] {
        let loadable = try LoadableImage(elf: elf, board: board)
        let words = Int(elf.section(named: ".vectors")?.size ?? 0) / 4
        guard words > 2, let table = loadable.bytes(at: loadable.vectorTable, count: words * 4) else {
            throw .elf("no vector table to count exceptions from")
        }
        var entries: [UInt32] = []
        for index in 2..<words {
            let handler = TargetWords.word(table, at: index * 4) & ~1
            if handler != 0 && !entries.contains(handler) { entries.append(handler) }
        }
        return entries
    }
}
