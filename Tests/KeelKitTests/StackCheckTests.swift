// The stack check's findings on constructed reports: each names what to write in keel.json.
//
// Each test builds the analysis result a task would have and compares the whole finding, so
// a message that stops saying what to type fails here, without a firmware build.

import XCTest
@testable import KeelKit

final class StackCheckTests: XCTestCase {
    /// A task result as the analysis gives it: `pathBytes` on the path, one exception frame.
    func task(_ name: String = "sensor", pathBytes: UInt32 = 1160, bounded: Bool = true, declared: Int? = 1024,
              largestFrame: UInt32 = 96, guardBytes: UInt32 = 0, redZoneBytes: UInt32 = 0,
              segmented: Bool = false, points: [UnboundedPoint] = []) -> TaskStackResult {
        let steps = [PathStep(function: "keel_entry_\(name)", bytes: 0, source: "compiler"),
                     PathStep(function: "\(name)Task()", bytes: pathBytes - largestFrame, source: "compiler"),
                     PathStep(function: "print(_:)", bytes: largestFrame, source: "compiler")]
        return TaskStackResult(
            task: name, entry: "keel_entry_\(name)", pathBytes: pathBytes, exceptionFrameBytes: 36,
            worstBytes: bounded ? pathBytes + 36 : nil, path: steps, unbounded: points.map(\.reason), unboundedPoints: points,
            declaredBytes: declared, largestFrame: steps[2], guardBytes: guardBytes, redZoneBytes: redZoneBytes,
            protections: ["paint"], segmented: segmented, stillNeeded: "")
    }

    func report(_ tasks: [TaskStackResult], mpu: MPUKind? = .pmsav7) -> StackAnalysisReport {
        StackAnalysisReport(
            image: "app.elf", board: nil, mpu: mpu, tasks: tasks,
            handlers: HandlerStackResult(worstBytes: 400, bootBytes: 200, runningBytes: 400, faultBytes: 100, interruptLevels: 1,
                                         interruptHandlers: [], path: [], unbounded: [], unboundedPoints: [], declaredBytes: 2048),
            helpers: [], uncheckedChains: nil)
    }

    func messages(_ report: StackAnalysisReport) -> [String] { StackCheck.findings(report).map(\.description) }

    let path = "keel_entry_sensor -> sensorTask() -> print(_:)"

    func testStackTooSmallNamesTheSizeThatPassesAndAuto() {
        XCTAssertEqual(messages(report([task()])), [
            "sensor: stack 1024 bytes < worst case 1196 bytes (1160 on the path + 36 exception frame); path: \(path); "
                + #"declare "stack": 1352 (worst + margin, what "auto" gives) or "stack": "auto""#,
        ])
        XCTAssertEqual(StackCheck.automaticBytes(worst: 1196), 1352)
        // The size it names passes.
        XCTAssertEqual(messages(report([task(declared: 1352)])), [])
    }

    /// The red zone is part of the stack and a path may not enter it (T4 takes that for an
    /// overflow), so it is counted on top of the worst case.
    func testStackTooSmallCountsTheRedZone() {
        let fits = task(pathBytes: 964, declared: 1024, largestFrame: 16, redZoneBytes: 32)   // worst 1000
        XCTAssertEqual(messages(report([fits])), [
            "sensor: stack 1024 bytes < worst case 1000 bytes + 32-byte red zone (964 on the path + 36 exception frame); "
                + #"path: \#(path); declare "stack": 1168 (worst + red zone + margin) or "stack": "auto" (1128 bytes)"#,
        ])
        XCTAssertEqual(fits.marginBytes, -8)
        XCTAssertEqual(StackAnalysis.stillNeeded(fits, board: nil), "too small by 8 bytes: the stack can overflow")
        XCTAssertEqual(messages(report([task(pathBytes: 964, declared: 1032, largestFrame: 16, redZoneBytes: 32)])), [])
        // A red zone larger than the margin: "auto" alone would not pass, so it is not offered.
        let wide = task(pathBytes: 964, declared: 1024, largestFrame: 16, redZoneBytes: 256)
        XCTAssertTrue(messages(report([wide]))[0].hasSuffix(#"declare "stack": 1416 (worst + red zone + margin)"#),
                      messages(report([wide]))[0])
    }

    func testSegmentedStackTooSmallNamesMax() {
        XCTAssertEqual(messages(report([task("worker", declared: 1024, segmented: true)])), [
            "worker: stack 1024 bytes < worst case 1196 bytes (1160 on the path + 36 exception frame); "
                + "path: keel_entry_worker -> workerTask() -> print(_:); "
                + #"raise "max" to at least 1196 bytes, plus 384 for every segment after the first (each keeps that slack below its limit)"#,
        ])
    }

    /// A frame larger than the guard names the guard that holds it, on the MPU's terms:
    /// a power of two on PMSAv7 (the planner rounds it so), the 32-byte granule on PMSAv8.
    func testFrameLargerThanTheGuardNamesTheGuardThatHoldsIt() {
        let filter = task("filter", declared: 2048, largestFrame: 280, guardBytes: 128)
        XCTAssertEqual(messages(report([filter], mpu: .pmsav7)), [
            "filter: the 280-byte frame of print(_:) is larger than the 128-byte MPU guard below the stack: it can jump it; "
                + #"declare "guard": 512 to hold it"#,
        ])
        XCTAssertTrue(messages(report([filter], mpu: .pmsav8))[0].hasSuffix(#"declare "guard": 288 to hold it"#))
        XCTAssertEqual(messages(report([task("filter", declared: 2048, largestFrame: 128, guardBytes: 128)])), [])
        XCTAssertEqual(StackCheck.guardBytes(holding: 1288, mpu: .pmsav7), 2048)
        XCTAssertEqual(StackCheck.guardBytes(holding: 1288, mpu: .pmsav8), 1312)
        XCTAssertEqual(StackCheck.guardBytes(holding: 32, mpu: .pmsav7), 32)
        XCTAssertNil(StackCheck.guardBytes(holding: 70_000, mpu: .pmsav8))
    }

    func testFrameLargerThanTheRedZoneNamesTheRedZoneThatHoldsIt() {
        // A stack too small for its worst case: a frame larger than the band can skip it.
        let logger = task("logger", pathBytes: 1160, declared: 1200, largestFrame: 280, redZoneBytes: 16)
        XCTAssertTrue(messages(report([logger])).contains(
            "logger: the 280-byte frame of print(_:) is larger than the 16-byte red zone: it can write below the stack before T4 "
                + #"checks the band, or skip the band; declare "red_zone": 288 (part of the stack: it then needs at least 1484 bytes)"#),
            "\(messages(report([logger])))")
        XCTAssertEqual(messages(report([task("logger", pathBytes: 1160, declared: 1600, largestFrame: 280, redZoneBytes: 288)])), [])
        // A stack proven to hold its worst case above the band never reaches it: no finding.
        XCTAssertEqual(messages(report([task("logger", pathBytes: 1160, declared: 2048, largestFrame: 280, redZoneBytes: 16)])), [])
        // Without T4 there is no red zone to jump.
        XCTAssertEqual(messages(report([task("logger", declared: 2048, largestFrame: 280)])), [])
    }

    /// An unbounded result prints the calls that reach the recursion it names, and the exact
    /// manifest entry that bounds it.
    func testUnboundedNamesTheRecursionItsPathReachesAndTheKeyToPaste() {
        let point = UnboundedPoint(.recursion(cycle: ["quicksort(_:_:_:)"]),
                                   path: ["keel_entry_worker", "sortTask()", "quicksort(_:_:_:)"])
        XCTAssertEqual(messages(report([task("worker", bounded: false, declared: 4736, segmented: true, points: [point])])), [
            "worker: unbounded: recursion: quicksort(_:_:_:) -> quicksort(_:_:_:); path: keel_entry_worker -> sortTask() -> "
                + #"quicksort(_:_:_:); bound it in keel.json: "analysis": {"recursion_depth": {"quicksort(_:_:_:)": N}}, "#
                + "N being the most times the recursion nests",
        ])
        // A cycle of two: the key is the function the path meets first, which the manifest matches.
        let pair = UnboundedPoint(.recursion(cycle: ["even(_:)", "odd(_:)"]), path: ["keel_entry_a", "aTask()", "odd(_:)"])
        XCTAssertEqual(pair.fix, #""analysis": {"recursion_depth": {"odd(_:)": N}}, N being the most times the recursion nests"#)
        XCTAssertTrue(WorstCaseStack.name("odd(_:)", matches: "$e4main3oddyS2uF", readable: "odd(_:)"))
        let dynamic = UnboundedPoint(.dynamicFrame(function: #"parse("x")"#, site: 0x1234), path: nil)
        XCTAssertEqual(dynamic.fix, #""analysis": {"bounds": {"parse(\"x\")": BYTES}}, BYTES being the most its whole call tree uses"#)
        XCTAssertEqual(dynamic.path, [])
    }

    /// A segmented task is checked by its prologue: `keel stack` never tells it to keep a
    /// guard or a limit register, which its manifest may not combine with segments.
    func testSegmentedTaskIsNeverToldToKeepAnotherDetector() {
        for architecture in [Architecture.armv6m, .armv7m, .armv8m] {
            let board = Board(name: "b", summary: "", cpu: "", architecture: architecture, swiftTarget: "", clangTarget: "",
                              libgccMultilib: "", flash: MemoryRegion(origin: 0, length: 1), ram: MemoryRegion(origin: 0, length: 1),
                              mpu: .none, mpuRegions: 0, hasStackLimitRegisters: false, qemuMachine: "", clockHertz: 1,
                              console: ConsolePort(kind: .cmsdk, base: 0, baudSetting: 1, transmitPin: 0, receivePin: 0, receiveLine: 0, transmitLine: 1),
                              timer: DeviceTimerPort(kind: .cmsdk, base: 0, line: 8, clockHertz: 1),
                              fpu: nil, interruptLines: 32, priorityBits: 3)
            let segmented = StackAnalysis.stillNeeded(task("worker", bounded: false, declared: 4736, segmented: true), board: board)
            XCTAssertEqual(segmented, #"unbounded: the prologue checks every call and "max" caps the segments; "#
                           + #"bound it in the manifest to prove "max" holds it"#)
            let fixed = StackAnalysis.stillNeeded(task("worker", bounded: false), board: board)
            XCTAssertTrue(fixed.hasPrefix("unbounded: keep a detector"), fixed)
        }
    }

    /// A handler stack too small for a path of 40 functions: the finding says what runs on the
    /// handler stack and why an older Keel's size may not do, and prints as lines of at most
    /// 100 characters, each step of the path whole and in order.
    func testHandlerStackTooSmallSaysWhyAndWrapsIntoReadableLines() {
        var base = report([task(declared: 2048)])
        base.handlers.declaredBytes = 1024
        base.handlers.worstBytes = 2016
        base.handlers.segmentSlowPathBytes = 444
        base.handlers.path = (0..<40).map { PathStep(function: "specialized static Faults.step\($0)(_:action:)", bytes: 40, source: "compiler") }
        let finding = StackCheck.findings(base).first { $0.kind == .handlerStackTooSmall }!
        XCTAssertGreaterThan(finding.description.count, 1183)
        XCTAssertTrue(finding.message.hasPrefix("handler_stack 1024 bytes < worst case 2016 bytes; it holds boot 200, "
            + "interrupts 400 (1 level), the fault path 100, the segment slow path 444 bytes: the fault path reports on this stack"), finding.message)
        XCTAssertTrue(finding.message.contains("a handler_stack that was enough for an older Keel can be too small now"), finding.message)
        let lines = finding.lines(indent: "  ")
        XCTAssertEqual(lines.first, "  handler: handler_stack 1024 bytes < worst case 2016 bytes")
        XCTAssertEqual(lines.last, "    declare \"handler_stack\": 2272 (worst + margin)")
        XCTAssertTrue(lines.allSatisfy { $0.count <= 100 }, lines.joined(separator: "\n"))
        XCTAssertGreaterThan(lines.count, 10)
        let rejoined = lines.joined(separator: " ").split(separator: " ").joined(separator: " ")
        XCTAssertTrue(rejoined.contains((0..<40).map { "specialized static Faults.step\($0)(_:action:)" }.joined(separator: " -> ")))
    }

    /// A word longer than the width gets a line of its own; short text stays one line.
    func testLineWrapKeepsWordsWhole() {
        XCTAssertEqual(LineWrap.lines("a b c", width: 10), ["a b c"])
        XCTAssertEqual(LineWrap.lines("aaaa bbbb cccc", width: 9, first: "", rest: "  "), ["aaaa bbbb", "  cccc"])
        XCTAssertEqual(LineWrap.lines("x " + String(repeating: "y", count: 20) + " z", width: 10), ["x", "    " + String(repeating: "y", count: 20), "    z"])
        XCTAssertEqual(LineWrap.lines("path: f() -> closure #1 in g() -> h()", width: 24),
                       ["path: f() ->", "    closure #1 in g() ->", "    h()"])
    }
}

extension StackCheckTests {
    /// Interrupt levels on the handler stack: one at the dispatcher's worst, then each further
    /// attached handler once at its own depth (plus what the dispatcher adds), deepest first,
    /// never the deepest handler twice, at most one level per line; then every zero-latency
    /// handler. (Every level at the deepest handler's depth charged the console's short
    /// handler, attached in every image, as much as the deepest.)
    func testEachInterruptLevelCostsItsOwnHandler() {
        func depth(_ bytes: UInt32, through symbols: [String] = []) -> StackDepth {
            // The path's steps add up to the depth, as the analysis's do.
            let steps = (symbols.isEmpty ? ["handler"] : symbols).enumerated().map { index, symbol in
                PathStep(function: symbol, bytes: index == 0 ? bytes : 0, source: "compiler", symbol: symbol)
            }
            return StackDepth(bytes: bytes, path: steps, unbounded: [], largestFrame: nil)
        }
        let handlers = [(symbol: "deep", depth: depth(560)), (symbol: "console", depth: depth(40)), (symbol: "middle", depth: depth(200))]
        let levels = StackAnalysis.interruptLevels(dispatched: depth(600, through: ["dispatch", "deep"]), lines: 32,
                                                   handlers: handlers, zeroLatency: [depth(100)], frame: 36)
        XCTAssertEqual(levels.map { $0.reduce(0) { $0 + $1.bytes } }, [636, 36 + 40 + 200, 36 + 40 + 40, 136])
        // The dispatcher's worst through no handler (an unexpected interrupt): every handler after it.
        let unexpected = StackAnalysis.interruptLevels(dispatched: depth(700, through: ["dispatch", "report"]), lines: 32,
                                                       handlers: handlers, zeroLatency: [], frame: 36)
        XCTAssertEqual(unexpected.map { $0.reduce(0) { $0 + $1.bytes } }, [736, 36 + 140 + 560, 36 + 140 + 200])
        // Two lines: two levels at most.
        XCTAssertEqual(StackAnalysis.interruptLevels(dispatched: depth(600, through: ["deep"]), lines: 2, handlers: handlers,
                                                     zeroLatency: [], frame: 36).count, 2)
    }
}
