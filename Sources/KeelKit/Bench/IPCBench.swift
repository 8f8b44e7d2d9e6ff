// Measures the kernel's services (queue, semaphore, notification, mutex, interrupt wake-up)
// in executed instructions per hand-off, against FreeRTOS measured the same way.
//
// One image per board (Firmware/Examples/bench-ipc) measures every shape in one run: it opens
// one counter window per shape at `keel_bench_start` (N round trips, N lock pairs, 2N yields)
// and one per interrupt at the handler's entry (`keel_interrupt_dispatch`, the IRQ vectors'
// target), closed by `keel_bench_stop` in the woken task. The plugin reports each window's
// count, so a figure is a window divided by what it holds. The image is run twice: every
// window must repeat exactly, or the figures are reported as not exact.

import Foundation

/// One measured shape: what a unit is, and FreeRTOS 11's figure (clang -O2, same QEMU
/// boards, same counting) with the target Keel must meet.
public struct IPCShape: Sendable, Equatable {
    public var name: String
    /// What one unit of the figure is.
    public var unit: String
    /// FreeRTOS on the Cortex-M3 (mps2-an385) and the Cortex-M0 (micro:bit); nil where
    /// FreeRTOS was not measured in that shape.
    public var freeRTOSM3: Double?
    public var freeRTOSM0: Double?
    /// At most this many instructions per unit (M3/M33, M0); nil: no target, shown for information.
    public var targetM3: Double?
    public var targetM0: Double?

    public func freeRTOS(on board: Board) -> Double? { board.architecture == .armv6m ? freeRTOSM0 : freeRTOSM3 }
    public func target(on board: Board) -> Double? { board.architecture == .armv6m ? targetM0 : targetM3 }

    /// In the order the bench image measures them; the interrupt's windows come last.
    public static let all: [IPCShape] = [
        IPCShape(name: "plain yield switch", unit: "switch", freeRTOSM3: 57.5, freeRTOSM0: 74.5, targetM3: 45, targetM0: 65),
        IPCShape(name: "queue send + receive", unit: "message", freeRTOSM3: 629.5, freeRTOSM0: 629.5, targetM3: 315, targetM0: 315),
        IPCShape(name: "binary semaphore hand-off", unit: "hand-off", freeRTOSM3: 581, freeRTOSM0: 580, targetM3: 290, targetM0: 290),
        IPCShape(name: "notification hand-off", unit: "hand-off", freeRTOSM3: 353, freeRTOSM0: 363.5, targetM3: 180, targetM0: 180),
        IPCShape(name: "mutex lock + unlock", unit: "pair", freeRTOSM3: 141, freeRTOSM0: 141, targetM3: 40, targetM0: 50),
        // FreeRTOS's figures and the targets are for a notification (`vTaskNotifyGiveFromISR`,
        // FreeRTOS's own way to wake a task from an interrupt); the semaphore row is Keel's
        // other path, shown beside it.
        IPCShape(name: "interrupt -> woken task (semaphore)", unit: "wake-up", freeRTOSM3: nil, freeRTOSM0: nil, targetM3: nil, targetM0: nil),
        IPCShape(name: "interrupt -> woken task (notification)", unit: "wake-up", freeRTOSM3: 179, freeRTOSM0: 195, targetM3: 80, targetM0: 110),
    ]
    /// The interrupt rows (the last two), each measured over its own `warmUp + interrupts` windows.
    static let interruptShapes = 2
}

public struct IPCCost: Sendable, Equatable, Codable {
    public var board: String
    public var shape: String
    public var unit: String
    /// Units measured (switches, messages, hand-offs, pairs, wake-ups).
    public var units: Int
    /// Instructions in the windows that measured them.
    public var instructions: UInt64
    public var perUnit: Double
    public var freeRTOS: Double?
    public var target: Double?
    /// perUnit is at most the target (true when there is none).
    public var met: Bool
    /// Both runs gave the same count for every window (and, for the interrupt, every
    /// wake-up counted the same).
    public var repeatable: Bool

    public init(board: String, shape: String, unit: String, units: Int, instructions: UInt64, freeRTOS: Double?, target: Double?,
                repeatable: Bool) {
        self.board = board; self.shape = shape; self.unit = unit; self.units = units; self.instructions = instructions
        self.perUnit = Double(instructions) / Double(max(units, 1))
        self.freeRTOS = freeRTOS; self.target = target; self.repeatable = repeatable
        let perUnit = self.perUnit
        met = target.map { perUnit <= $0 } ?? true
    }
}

public struct IPCBench: Sendable {
    /// Must match Firmware/Examples/bench-ipc/Bench.swift.
    public static let rounds = 1000
    public static let warmUp = 4
    public static let interrupts = 200
    /// The handler's first instruction: every IRQ vector points at the kernel's dispatch.
    public static let interruptEntry = "keel_interrupt_dispatch"

    public var bench: ContextSwitchBench

    public init(bench: ContextSwitchBench) { self.bench = bench }

    /// Windows the image closes: one per shape but the interrupts', then one per interrupt.
    static var expectedWindows: Int { IPCShape.all.count - IPCShape.interruptShapes + IPCShape.interruptShapes * (warmUp + interrupts) }

    /// Builds the bench image for `board`, runs it twice and returns one row per shape.
    public func measure(on board: Board) throws(KeelError) -> [IPCCost] {
        let application = try ContextSwitchBench.example("bench-ipc", board: board)
        return try measure(try bench.builder.build(application, for: board))
    }

    /// Runs `image` (the bench-ipc example, maybe changed) twice and returns one row per shape.
    public func measure(_ image: FirmwareImage) throws(KeelError) -> [IPCCost] {
        let first = try bench.windows(image, alsoStartingAt: [Self.interruptEntry])
        let second = try bench.windows(image, alsoStartingAt: [Self.interruptEntry])
        guard first.windows == Self.expectedWindows, first.each.count == first.windows else {
            throw .runFailed("bench-ipc on \(image.board.name): expected \(Self.expectedWindows) measured windows, got \(first.windows)")
        }
        let repeatable = first.each == second.each
        let board = image.board
        var rows: [IPCCost] = []
        for (index, shape) in IPCShape.all.enumerated() {
            let instructions: UInt64, units: Int
            var exact = repeatable
            switch index {
            case 0, 1, 2, 3: (instructions, units) = (first.each[index], 2 * Self.rounds)  // two switches / messages a round
            case 4: (instructions, units) = (first.each[index], Self.rounds)
            default:
                // After the five phases' windows, each interrupt row's warm-up and measured windows.
                let phase = index - (IPCShape.all.count - IPCShape.interruptShapes)
                let end = IPCShape.all.count - IPCShape.interruptShapes + (phase + 1) * (Self.warmUp + Self.interrupts)
                let wakeUps = first.each[(end - Self.interrupts)..<end]
                (instructions, units) = (wakeUps.reduce(0, +), Self.interrupts)
                exact = exact && Set(wakeUps).count == 1  // every wake-up took the same path
            }
            rows.append(IPCCost(board: board.name, shape: shape.name, unit: shape.unit, units: units, instructions: instructions,
                                freeRTOS: shape.freeRTOS(on: board), target: shape.target(on: board), repeatable: exact))
        }
        return rows
    }
}
