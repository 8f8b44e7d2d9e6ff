// Float-heavy load, hard float against soft float on the same board, same run: the
// bench-float example (a 16-tap FIR and a biquad over 256 samples) built with the FPU and the
// hard-float ABI, then with "float": "soft" (libgcc's integer code), counted between its markers.

import Foundation

public struct FloatCost: Sendable, Codable, Equatable {
    public var board: String
    public var samples: Int
    public var hardPerSample: Double
    public var softPerSample: Double
    /// soft / hard.
    public var speedup: Double
    /// Both builds computed the same checksum, bit for bit.
    public var sameResult: Bool
    public var repeatable: Bool
}

public struct FloatBench: Sendable {
    public static let samples = 256
    public var bench: ContextSwitchBench

    public init(bench: ContextSwitchBench) { self.bench = bench }

    /// Nil for a board without an FPU (there is nothing to compare).
    public func measure(on board: Board) throws(KeelError) -> FloatCost? {
        guard board.fpu != nil else { return nil }
        let base = try ContextSwitchBench.example("bench-float", board: board)
        var soft = base
        soft.name += "-soft"
        soft.float = .soft
        bench.builder.buildAll([FirmwareBuilder.Job(base), FirmwareBuilder.Job(soft)], for: board)
        var counts: [UInt64] = [], checksums: [String] = [], repeatable = true
        for application in [base, soft] {
            let image = try bench.builder.build(application, for: board)
            let first = try bench.count(image), second = try bench.count(image)
            repeatable = repeatable && first == second
            counts.append(first)
            let result = try bench.runner.run(image, options: RunOptions(timeoutSeconds: 60))
            checksums.append(result.output.first { $0.hasPrefix("bench-float: checksum") } ?? "")
        }
        let hard = Double(counts[0]) / Double(Self.samples), softPerSample = Double(counts[1]) / Double(Self.samples)
        return FloatCost(board: board.name, samples: Self.samples, hardPerSample: hard, softPerSample: softPerSample,
                         speedup: softPerSample / hard, sameResult: !checksums[0].isEmpty && checksums[0] == checksums[1],
                         repeatable: repeatable)
    }
}
