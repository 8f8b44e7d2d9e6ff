// Measures the RAM the layout planner loses to the MPU's rules, against plain power-of-two
// rounding, on a fixed set of random task sets (the same sets every run: a seeded generator).
//
// Every task of a set asks for T2 (the technique with the strictest placement rules); each set
// is planned for every board with an MPU. "Waste" is padding + alignment gaps + no-access
// coverage past the last stack; the baseline rounds every stack up to a power of two.

public struct LayoutWasteSample: Sendable, Equatable, Codable {
    public var board: String
    public var tasks: Int
    public var requestedBytes: UInt32
    public var plannerWaste: UInt32
    public var powerOfTwoWaste: UInt32
}

public struct LayoutWasteSummary: Sendable, Equatable, Codable {
    public var board: String
    public var sets: Int
    public var medianPlannerWaste: UInt32
    public var worstPlannerWaste: UInt32
    public var medianPowerOfTwoWaste: UInt32
    public var worstPowerOfTwoWaste: UInt32
    /// Planner waste as a share of the requested stack bytes.
    public var medianPlannerShare: Double
    public var worstPlannerShare: Double
    public var medianPowerOfTwoShare: Double
}

public enum LayoutWasteBench {
    public static let sets = 20

    /// The task sets: 3 to 10 tasks of 256 to 8192 bytes (multiples of 8), from a fixed seed.
    public static func taskSets() -> [[Int]] {
        var random = SplitMix64(seed: 0x4B45_454C)
        return (0..<sets).map { _ in
            let count = 3 + Int(random.next() % 8)
            return (0..<count).map { _ in 256 + Int(random.next() % 992) * 8 }
        }
    }

    public static func measure(on board: Board) throws(KeelError) -> (samples: [LayoutWasteSample], summary: LayoutWasteSummary) {
        var samples: [LayoutWasteSample] = []
        for stacks in taskSets() {
            let tasks = stacks.enumerated().map { index, bytes in
                TaskSpec(name: "t\(index)", entry: "t\(index)", priority: 1, stackBytes: bytes, protections: [.paint, .mpuRegion])
            }
            let application = Application(name: "waste", directory: KeelRoot.url, sources: [], tickHertz: 1000,
                                          handlerStackBytes: 2048, tasks: tasks)
            let layout = try LayoutPlanner.plan(application, on: board)
            samples.append(LayoutWasteSample(board: board.name, tasks: stacks.count, requestedBytes: UInt32(stacks.reduce(0, +)),
                                             plannerWaste: layout.waste.total, powerOfTwoWaste: layout.waste.powerOfTwoBaseline))
        }
        func median(_ values: [UInt32]) -> UInt32 { values.sorted()[values.count / 2] }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let shares = samples.map { Double($0.plannerWaste) / Double($0.requestedBytes) }
        let summary = LayoutWasteSummary(
            board: board.name, sets: samples.count,
            medianPlannerWaste: median(samples.map(\.plannerWaste)), worstPlannerWaste: samples.map(\.plannerWaste).max() ?? 0,
            medianPowerOfTwoWaste: median(samples.map(\.powerOfTwoWaste)), worstPowerOfTwoWaste: samples.map(\.powerOfTwoWaste).max() ?? 0,
            medianPlannerShare: median(shares), worstPlannerShare: shares.max() ?? 0,
            medianPowerOfTwoShare: median(samples.map { Double($0.powerOfTwoWaste) / Double($0.requestedBytes) }))
        return (samples, summary)
    }
}

/// A small seeded generator (SplitMix64) so the random sets are the same on every machine.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
