// Thread-Metric (the RTOS suite ThreadX's authors published; sysprog21/thread-metric-benchmark
// ports it to FreeRTOS and ThreadX on QEMU's mps2-an385) in executed instructions per unit.
//
// One image per board (Firmware/Examples/bench-thread-metric) runs the eight tests as phases,
// each one counter window; a figure is a window divided by the units it holds. Thread-Metric
// reports units per time period; counting instructions instead makes the figure exact and
// the same on every run (the image runs twice: the windows must repeat). The image runs with
// no protection (the suite's own setting) and with the board's default protection.

import Foundation

/// One Thread-Metric test: what a unit is, and the reference figures on mps2-an385 (the
/// suite's ports, gcc -O2, QEMU -icount, the same counter), with Keel's target there.
public struct ThreadMetricTest: Sendable, Equatable {
    public var name: String
    public var unit: String
    /// Units in the window, per `rounds` of the image's loop.
    public var unitsPerRound: Int
    public var threadX: Double?
    public var freeRTOS: Double?
    /// At most this per unit on mps2-an385 with no protection; nil: no target (the compiler's test).
    public var target: Double?

    /// In the order the image measures them.
    public static let all: [ThreadMetricTest] = [
        ThreadMetricTest(name: "basic processing", unit: "pass over 16 words", unitsPerRound: 1, threadX: nil, freeRTOS: nil, target: nil),
        ThreadMetricTest(name: "cooperative scheduling", unit: "relinquish", unitsPerRound: 5, threadX: 66.0, freeRTOS: 54.0, target: 40),
        ThreadMetricTest(name: "preemptive scheduling", unit: "counter increment (8/5 switches)", unitsPerRound: 5, threadX: 222.4, freeRTOS: 262.4, target: 150),
        ThreadMetricTest(name: "interrupt processing", unit: "handler run + semaphore get", unitsPerRound: 1, threadX: 99.0, freeRTOS: 122.0, target: 55),
        ThreadMetricTest(name: "interrupt preemption", unit: "interrupt, resume, 2 switches, suspend", unitsPerRound: 1, threadX: 290.0, freeRTOS: 337.0, target: 200),
        ThreadMetricTest(name: "message processing", unit: "16-byte send + receive", unitsPerRound: 1, threadX: 124.0, freeRTOS: 194.2, target: 75),
        ThreadMetricTest(name: "synchronization", unit: "semaphore get + put", unitsPerRound: 1, threadX: 55.0, freeRTOS: 120.0, target: 40),
        ThreadMetricTest(name: "memory allocation", unit: "128-byte allocate + release", unitsPerRound: 1, threadX: 59.0, freeRTOS: 25.0, target: 30),
    ]
}

public struct ThreadMetricCost: Sendable, Equatable, Codable {
    public var board: String
    public var test: String
    public var unit: String
    /// "none" or the board's default protection, as the manifest names it.
    public var protection: String
    public var units: Int
    public var instructions: UInt64
    public var perUnit: Double
    public var threadX: Double?
    public var freeRTOS: Double?
    /// The target where one applies (mps2-an385, no protection); nil elsewhere.
    public var target: Double?
    public var met: Bool?
    public var repeatable: Bool
}

public struct ThreadMetricBench: Sendable {
    /// Must match Firmware/Examples/bench-thread-metric/ThreadMetric.swift.
    public static let rounds = 1000
    public static let example = "bench-thread-metric"
    /// The board the reference figures were measured on.
    public static let referenceBoard = "mps2-an385"

    public var bench: ContextSwitchBench

    public init(bench: ContextSwitchBench) { self.bench = bench }

    /// Both images of `board` (no protection, the board's default), each run twice.
    public func measure(on board: Board) throws(KeelError) -> [ThreadMetricCost] {
        let base = try ContextSwitchBench.example(Self.example, board: board)
        var protected = base
        protected.name += "-default"
        protected.tasks = base.tasks.map { $0.with(protections: board.defaultProtections, redZoneBytes: board.defaultProtections.contains(.redZone) ? 16 : 0) }
        let label = board.defaultProtections.subtracting([.paint]).map(\.rawValue).sorted().joined(separator: "+")
        return try measure(try bench.builder.build(base, for: board), protection: "none")
            + measure(try bench.builder.build(protected, for: board), protection: label)
    }

    /// Runs `image` (the bench example, maybe changed) twice and returns one row per test.
    public func measure(_ image: FirmwareImage, protection: String) throws(KeelError) -> [ThreadMetricCost] {
        let first = try bench.windows(image)
        let second = try bench.windows(image)
        let tests = ThreadMetricTest.all
        guard first.each.count == tests.count else {
            throw .runFailed("\(Self.example) on \(image.board.name): expected \(tests.count) measured windows, got \(first.each.count)")
        }
        let reference = image.board.name == Self.referenceBoard
        return tests.enumerated().map { index, test in
            let units = test.unitsPerRound * Self.rounds
            let instructions = first.each[index]
            let perUnit = Double(instructions) / Double(units)
            let target = reference && protection == "none" ? test.target : nil
            return ThreadMetricCost(board: image.board.name, test: test.name, unit: test.unit, protection: protection, units: units,
                                    instructions: instructions, perUnit: perUnit,
                                    threadX: reference ? test.threadX : nil, freeRTOS: reference ? test.freeRTOS : nil,
                                    target: target, met: target.map { perUnit <= $0 },
                                    repeatable: second.each.count == first.each.count && second.each[index] == instructions)
        }
    }
}
