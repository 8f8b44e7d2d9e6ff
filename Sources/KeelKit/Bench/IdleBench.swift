// What an idle second costs, ticking against tickless (Firmware/Kernel/TicklessIdle.swift):
// `bench-idle`'s only task sleeps 1000 ticks between two markers, built with
// `"tickless": false` and with `true`. Counted inside the window: the instructions the core
// executes and the exceptions it takes (each run of a vector table handler's first
// instruction: the tick, PendSV, any interrupt). Also read from the run: how late the task
// woke, in ticks. Goal (issue 25): at least 50x fewer instructions and interrupts.

import Foundation

public struct IdleCost: Sendable, Codable, Equatable {
    public var board: String
    public var tickingInstructions: UInt64
    public var ticklessInstructions: UInt64
    public var tickingInterrupts: UInt64
    public var ticklessInterrupts: UInt64
    /// Ticks the task woke after its deadline (0: exact).
    public var tickingLate: Int
    public var ticklessLate: Int
    /// The idle task's sleeps with the tick stopped in the tickless run.
    public var ticklessSleeps: Int

    public var instructionRatio: Double { Double(tickingInstructions) / Double(max(ticklessInstructions, 1)) }
    public var interruptRatio: Double { Double(tickingInterrupts) / Double(max(ticklessInterrupts, 1)) }
    /// At least 50x fewer of both, and the wake on time both ways.
    public var met: Bool { instructionRatio >= IdleBench.goal && interruptRatio >= IdleBench.goal && tickingLate == 0 && ticklessLate == 0 }
}

public struct IdleBench: Sendable {
    public static let goal = 50.0
    public var bench: ContextSwitchBench
    public init(bench: ContextSwitchBench) { self.bench = bench }

    public func measure(on board: Board) throws(KeelError) -> IdleCost {
        let base = try ContextSwitchBench.example("bench-idle", board: board)
        var ticking = base
        ticking.name += "-ticking"
        ticking.ticklessIdle = false
        var tickless = base
        tickless.ticklessIdle = true
        let slow = try run(ticking, on: board), fast = try run(tickless, on: board)
        return IdleCost(board: board.name, tickingInstructions: slow.instructions, ticklessInstructions: fast.instructions,
                        tickingInterrupts: slow.interrupts, ticklessInterrupts: fast.interrupts,
                        tickingLate: slow.late, ticklessLate: fast.late, ticklessSleeps: fast.sleeps)
    }

    struct Window { var instructions: UInt64; var interrupts: UInt64; var late: Int; var sleeps: Int }

    func run(_ application: Application, on board: Board) throws(KeelError) -> Window {
        let image = try bench.builder.build(application, for: board)
        let (count, result) = try bench.counted(image, countingExceptions: true)
        guard count.windows == 1, let interrupts = count.entries else {
            throw .runFailed("\(application.name) on \(board.name): expected one window with exceptions counted, got \(count)")
        }
        guard let line = result.output.first(where: { $0.hasPrefix("bench-idle: ") }) else {
            throw .runFailed("\(application.name) on \(board.name) printed no bench-idle line")
        }
        var fields: [Substring: Int] = [:]
        for pair in line.dropFirst(12).split(separator: " ") {
            let parts = pair.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { fields[parts[0]] = value }
        }
        guard let late = fields["late"], let sleeps = fields["sleeps"] else { throw .runFailed("unreadable: \(line)") }
        return Window(instructions: count.counted, interrupts: interrupts, late: late, sleeps: sleeps)
    }
}
