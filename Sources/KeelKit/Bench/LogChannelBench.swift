// What a `Log` record costs the core on each channel (`keel bench --only log`): `bench-log`
// logs 32 records between two markers and sleeps two ticks (the UART sends what is queued),
// then runs the same loop without them. One record's cost is the difference over 32, every
// instruction it brings included: the record's fields, the copy into the console's ring and
// each byte's transmit interrupt; or the polled send ("console": {"output": 0}); or the copy
// into the RTT channel ("log": "rtt"), which the probe reads without the core.

import Foundation

public struct LogChannelCost: Sendable, Codable, Equatable {
    public var board: String
    /// Instructions per record through the console's transmit ring (nil: the board's UART has
    /// no transmit interrupt under QEMU, so the ring never runs).
    public var uartRing: Double?
    public var uartPolled: Double
    public var rtt: Double
    public var exact: Bool
}

public struct LogChannelBench: Sendable {
    /// Records a window logs: bench-log's `records`.
    public static let records = 32
    public var bench: ContextSwitchBench
    public init(bench: ContextSwitchBench) { self.bench = bench }

    public func measure(on board: Board) throws(KeelError) -> LogChannelCost {
        let base = try ContextSwitchBench.example("bench-log", board: board)
        var ring = base
        ring.name += "-ring"
        ring.console.outputBytes = ConsoleBufferSpec.defaultOutputBytes
        var polled = base
        polled.name += "-polled"
        polled.console.outputBytes = 0
        var rtt = base
        rtt.name += "-rtt"
        rtt.log = .rtt(bytes: 2048)  // every record fits: no host reads in the bench, and none is dropped
        let rttCost = try perRecord(rtt, on: board)
        let again = try perRecord(rtt, on: board)
        return LogChannelCost(board: board.name, uartRing: board.console.transmitInterrupt ? try perRecord(ring, on: board) : nil,
                              uartPolled: try perRecord(polled, on: board), rtt: rttCost, exact: rttCost == again)
    }

    /// Instructions per record: the logging window less the silent one, over `records`.
    func perRecord(_ application: Application, on board: Board) throws(KeelError) -> Double {
        let image = try bench.builder.buildChecked(application, for: board, mode: .off).image
        let result = try bench.counted(image)
        guard result.count.each.count == 2, result.count.each[0] > result.count.each[1] else {
            throw .runFailed("\(application.name) on \(board.name): expected two windows, got \(result.count.each)")
        }
        if let loss = result.run.consoleLoss {
            throw .runFailed("\(application.name) on \(board.name) lost records: \(RunReport.describe(loss))")
        }
        return Double(result.count.each[0] - result.count.each[1]) / Double(Self.records)
    }
}
