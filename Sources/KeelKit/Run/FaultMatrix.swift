// The fault-injection matrix: every technique against every overflow site on every board.
//
// One image per (board, technique) of Firmware/Examples/mpu-overflow, every scenario task
// protected by that technique alone (plus paint), and Firmware/Examples/segmented for
// segmented stacks. Its checker starts one scenario at a time,
// copies every byte of the stack area beforehand and prints how many bytes outside the
// scenario's own stack changed. The matrix reads that, the fault records and the boots:
// caught or not, by what, which task was blamed, bytes changed outside, bystanders stopped
// (with the true cause or not), and whether the kernel went on or reset with a record.
// A technique "claims" a site when it is meant to catch it; the totals count claims.

import Foundation

public struct FaultCell: Sendable, Codable, Equatable {
    public var board: String
    public var technique: String
    public var site: String
    /// The technique is meant to catch this site (T1 does not watch stores through a
    /// pointer; T4 and T5 only look at a task when it is switched out).
    public var claimed: Bool
    public var caught: Bool
    /// What the fault record says caught it ("none" when nothing did).
    public var caughtBy: String
    /// The tasks the fault records name as having faulted (victims not included).
    public var blamed: [String]
    /// Bytes outside the scenario's stack that changed; nil when the scenario did not run.
    public var bytesOutside: Int?
    /// Tasks stopped because the overflow wrote their stacks, with the true cause.
    public var bystandersStopped: [String]
    /// Tasks other than the scenario's reported as faulting on their own (wrongly blamed).
    public var bystandersBlamed: [String]
    /// Tasks stopped during this scenario whose stacks did not change, read back byte for
    /// byte by the checker: stopped for nothing. Must be empty.
    public var falseVictims: [String] = []
    /// Every fault record of the scenario that is not a victim's names the scenario's task
    /// (the handler's: the handler).
    public var culpritRight: Bool = true
    /// "alive", "reset with record", or "lost" (hang, lockup, no record).
    public var kernel: String
    /// Overflows of this site (the restart site overflows eleven times), and how many were caught.
    public var overflows: Int
}

public struct FaultMatrixSummary: Sendable, Codable {
    public var board: String
    public var claimed: Int
    public var detected: Int
    public var bytesOutsideUnderStoppingTechniques: Int
    public var bystandersBlamed: Int
    /// Tasks stopped whose stacks did not change, over every cell.
    public var falseVictims: Int = 0
    /// Cells whose fault records blamed another task than the one that ran.
    public var culpritsWrong: Int = 0
    public var lockups: Int
    public var seconds: Double
}

public struct FaultMatrix: Sendable {
    public let builder: FirmwareBuilder
    public let runner: QEMURunner

    public init(builder: FirmwareBuilder, runner: QEMURunner) {
        self.builder = builder
        self.runner = runner
    }

    /// The sites every board has, in the order the checker runs them, with what each stands for.
    public static let sites: [(task: String, site: String)] = [
        ("relapse", "restart x10, then kill"), ("deep", "deep recursion"), ("wide", "one large frame"),
        ("memset", "memset below the stack"), ("preempted", "tick pushes its frame"),
        ("switching", "inside a kernel call"), ("handler", "interrupt handler"), ("resetter", "reset policy"),
    ]

    /// The FP sites (boards with an FPU; the variant adds their tasks): the tick's extended
    /// frame reserved across the bottom of a stack whose guard and red zone follow the FP rule
    /// (128 bytes), and the lazy FP state written across a 32-byte guard or 16-byte red zone
    /// that the frame's integer words jumped (the configuration `keel check` flags).
    public static let floatingPointSites: [(task: String, site: String)] = [
        ("fpframe", "FP frame reserved across the bottom"), ("fplazy", "lazy FP state written past a small guard"),
    ]

    /// The sites of `board`'s matrix, in the order the checker runs them.
    public static func sites(on board: Board) -> [(task: String, site: String)] {
        hasFloatingPointSites(board) ? [sites[0]] + floatingPointSites + sites.dropFirst() : sites
    }

    /// A board with an FPU: its images compute in hard float, and the variant adds the FP tasks.
    static func hasFloatingPointSites(_ board: Board) -> Bool { board.fpu != nil }

    /// The techniques a board has, by their manifest names.
    public static func techniques(on board: Board) -> [Protection] {
        var list: [Protection] = []
        if board.hasStackLimitRegisters { list.append(.limitRegister) }
        if board.mpu != .none { list += [.mpuRegion, .mpuGuard] }
        return list + [.redZone, .stackPointerCheck, .prologueCheck]
    }

    /// Whether `technique` is meant to catch the scenario `task`.
    public static func claims(_ technique: Protection, _ task: String) -> Bool {
        switch (technique, task) {
        case (.limitRegister, "memset"): false          // a store through a pointer moves no SP
        case (.redZone, "deep"), (.stackPointerCheck, "deep"),
             (.redZone, "resetter"), (.stackPointerCheck, "resetter"):
            false                                       // no switch while it runs: checked too late
        case (.redZone, "memset"), (.stackPointerCheck, "memset"): false  // below the stack, not in it
        case (.stackPointerCheck, "wide"): false        // SP is back in the stack by the next switch
        case (.prologueCheck, "memset"): false           // a store through a pointer calls nothing
        default: true
        }
    }

    /// The scenario image's manifest for one technique: every scenario task protected by it.
    public static func variant(_ technique: Protection, board: Board) -> (inout Application) -> Void {
        { application in
            // The micro:bit has 16 KiB: smaller stacks, a smaller handler stack.
            let small = board.ram.length <= 64 * 1024
            if small { application.handlerStackBytes = 1024 }
            application.tasks = application.tasks.map { task in
                var changed = task.name == "checker" || task.name == "floor" ? task
                    : task.with(protections: [.paint, technique], redZoneBytes: 16, guardBytes: 512)
                // The checker names false victims: 768 overflowed. `floor` only sleeps: 256 leaves
                // the checker's heap the room its copy of the stack area needs.
                if small { changed.stackBytes = task.name == "checker" ? 1024 : task.name == "floor" ? 256 : 512 }
                return changed
            }
            // The FP scenarios sit right above `relapse`, the first to run: each overflow meets a
            // stack whose scenario is over.
            if hasFloatingPointSites(board), let relapse = application.tasks.firstIndex(where: { $0.name == "relapse" }) {
                let model = application.tasks[relapse]
                // T3 places the largest guards lowest: 128 puts `fpframe` under `fplazy`, whose
                // jumped frame then lands in a stack already done with (not in `resetter`'s).
                var frame = model.with(protections: [.paint, technique], redZoneBytes: 128, guardBytes: 128)
                (frame.name, frame.entry, frame.faultPolicy) = ("fpframe", "fpFrameTask", .kill)
                var lazy = model.with(protections: [.paint, technique], redZoneBytes: 16, guardBytes: 32)
                (lazy.name, lazy.entry, lazy.faultPolicy) = ("fplazy", "fpLazyTask", .kill)
                application.tasks.insert(contentsOf: [frame, lazy], at: relapse + 1)
            }
        }
    }

    public func run(on board: Board, only: Protection? = nil) throws(KeelError) -> (cells: [FaultCell], summary: FaultMatrixSummary) {
        let started = Date()
        let directory = KeelRoot.examples.appendingPathComponent("mpu-overflow")
        var cells: [FaultCell] = []
        for technique in Self.techniques(on: board) where only == nil || only == technique {
            // The variant is made for the board (on the micro:bit every stack shrinks), so it
            // runs where the example as written does not ("boards": the MPS2 boards).
            var application = try Manifest.load(directory: directory, board: board, ignoringBoards: true)
            application.name += "-" + technique.rawValue
            Self.variant(technique, board: board)(&application)
            let image = try builder.build(application, for: board)
            let result = try runner.run(image, options: RunOptions(timeoutSeconds: 60))
            cells += Self.cells(result, board: board, technique: technique)
        }
        if only == nil {
            let segmented = try Manifest.load(directory: KeelRoot.examples.appendingPathComponent("segmented"), board: board)
            let result = try runner.run(try builder.build(segmented, for: board), options: RunOptions(timeoutSeconds: 60))
            cells += Self.segmentedCells(result, board: board.name)
        }
        return (cells, Self.summarize(cells, board: board.name, seconds: Date().timeIntervalSince(started)))
    }

    /// Segmented stacks (Firmware/Examples/segmented): `runaway` recurses until it reaches its
    /// `max` (restarted once, then killed), `hog` until the pool is empty. Both are caught by
    /// the split-stack prologue before a byte below a segment is written; nothing else faults.
    public static func segmentedCells(_ result: RunResult, board: String) -> [FaultCell] {
        [("runaway", "deep recursion to its max"), ("hog", "pool exhausted")].map { task, site in
            let faults = result.faults.filter { $0.task == task }
            let others = result.faults.filter { $0.task != "runaway" && $0.task != "hog" }
            return FaultCell(board: board, technique: "segmented", site: site, claimed: true,
                             caught: !faults.isEmpty && faults.allSatisfy { $0.kind == "stack-exhausted" && $0.technique == "split-stack" },
                             caughtBy: faults.first?.technique ?? "none", blamed: faults.isEmpty ? [] : [task], bytesOutside: nil,
                             bystandersStopped: others.filter(\.isVictim).map(\.task),
                             bystandersBlamed: others.filter { !$0.isVictim }.map(\.task),
                             culpritRight: others.allSatisfy(\.isVictim),
                             kernel: result.timedOut || result.exitCode != 0 ? "lost" : "alive", overflows: faults.count)
        }
    }

    /// The totals of one board's cells: claimed sites detected, bytes written outside under
    /// T1, T2 and T6 (which stop the write), bystanders blamed, runs in which the kernel was lost.
    public static func summarize(_ cells: [FaultCell], board: String, seconds: Double) -> FaultMatrixSummary {
        let claimed = cells.filter(\.claimed)
        return FaultMatrixSummary(
            board: board, claimed: claimed.count, detected: claimed.filter(\.caught).count,
            bytesOutsideUnderStoppingTechniques: claimed.filter { ["limit-register", "mpu-region", "prologue-check"].contains($0.technique) }
                .reduce(0) { $0 + ($1.bytesOutside ?? 0) },
            bystandersBlamed: cells.reduce(0) { $0 + $1.bystandersBlamed.count },
            falseVictims: cells.reduce(0) { $0 + $1.falseVictims.count },
            culpritsWrong: cells.filter { !$0.culpritRight }.count,
            lockups: cells.filter { $0.kernel == "lost" }.count,
            seconds: seconds)
    }

    /// Reads one run of the scenario image into its cells.
    public static func cells(_ result: RunResult, board: Board, technique: Protection) -> [FaultCell] {
        // A hang (timeout), a lockup (QEMU aborts) or a run that never reached its end.
        let lost = result.timedOut || result.exitCode != 0
        return sites(on: board).map { task, site in
            let own = result.faults.filter { $0.task == task }  // the next boot's report of a reset repeats one of these
            let line = result.output.first { $0.hasPrefix("keel-test:scenario=\(task) ") }
            var bytes: Int? = line.flatMap { text in
                text.split(separator: " ").first { $0.hasPrefix("outside-changed=") }.flatMap { Int($0.dropFirst(16)) }
            }
            let falseVictims = line.flatMap { text in
                text.split(separator: " ").first { $0.hasPrefix("stopped-unchanged=") }.map { $0.dropFirst(18) }
            }.map { $0 == "-" ? [] : $0.split(separator: ",").map(String.init) } ?? []
            var faults = own.filter { !$0.isVictim }
            var kernel = lost ? "lost" : "alive"
            if task == "handler" {
                // Reported twice: as it happens and by the next boot; one overflow.
                faults = Array(result.faults.filter { $0.task == "handler" }.prefix(1))
                bytes = nil
                kernel = lost ? "lost" : faults.contains { $0.action == "reset" } ? "reset with record" : "alive"
            } else if task == "resetter" {
                kernel = lost ? "lost" : result.previousBoots.contains { $0.task == "resetter" } ? "reset with record" : "alive"
            }
            let caughtBy = faults.first?.technique ?? "none"
            // The fault the technique names must be its own; an overflow caught by what it ran into is not.
            let expected = task == "handler" ? nil : technique.rawValue
            // A memset through a pointer is a stray write, rightly reported as one (T2 refuses writes into other stacks).
            let caught = !faults.isEmpty && faults.allSatisfy {
                ($0.isStackOverflow || (task == "memset" && $0.kind == "foreign-stack-write")) && (expected == nil || $0.technique == expected)
            }
            // Faults in this scenario's window that name other tasks: victims (stopped with the
            // cause) or tasks wrongly blamed.
            let window = scenarioFaults(result, task)
            let victims = window.filter { $0.isVictim && $0.cause == task }.map(\.task)
            let blamed = window.filter { !$0.isVictim && $0.task != task && $0.task != "handler" }.map(\.task)
            return FaultCell(board: board.name, technique: technique.rawValue, site: site, claimed: claims(technique, task),
                             caught: caught, caughtBy: caughtBy, blamed: Array(Set(faults.map(\.task))).sorted(),
                             bytesOutside: bytes, bystandersStopped: victims, bystandersBlamed: blamed,
                             falseVictims: falseVictims, culpritRight: blamed.isEmpty,
                             kernel: kernel, overflows: faults.count)
        }
    }

    /// The fault records of one scenario's window: since the checker's previous line up to
    /// its own (the handler's: up to the reset it causes; the resetter's: after that reset).
    static func scenarioFaults(_ result: RunResult, _ task: String) -> [FaultRecord] {
        var faults: [FaultRecord] = []
        var boots = 0
        for record in result.records {
            switch record {
            case .boot:
                boots += 1
                if task == "handler" && boots == 2 { return faults }
                if boots > 1 { faults = [] }
            case .output(let line) where line.hasPrefix("keel-test:scenario="):
                if line.hasPrefix("keel-test:scenario=\(task) ") { return faults }
                faults = []
            case .fault(let fault): faults.append(fault)
            default: break
            }
        }
        return faults
    }
}
