// The task table decoded from a fake target's memory: the kernel's debug layout, states,
// the running task's live stack pointer, protections, high-water marks from the paint and
// from the history, the handler stack, and the mistakes that must be errors.

@testable import KeelKit
import XCTest

final class TaskTableTests: XCTestCase {
    /// The kernel's table today (Firmware/Kernel/DebugLayout.swift).
    static let words: [UInt32] = [0x4C45_454B, 4, 128, 32, 60, 62, 63, 72, 76, 92, 120, 20, 0, 9, 112, 4, 10, 8, 0, 4, 32]

    /// Memory by address; a read of a byte nobody wrote is refused, as a target would.
    struct FakeMemory: TargetMemory {
        var bytes: [UInt32: UInt8] = [:]
        var reads = 0

        mutating func read(_ address: UInt32, count: Int) throws(KeelError) -> [UInt8] {
            reads += 1
            var result: [UInt8] = []
            for offset in 0..<count {
                guard let byte = bytes[address + UInt32(offset)] else {
                    throw .debugTarget("refused to read \(count) bytes at \(hex(address))")
                }
                result.append(byte)
            }
            return result
        }

        mutating func store(_ address: UInt32, word: UInt32) {
            for index in 0..<4 { bytes[address + UInt32(index)] = UInt8(truncatingIfNeeded: word >> (index * 8)) }
        }

        mutating func store(_ address: UInt32, byte: UInt8) { bytes[address] = byte }

        /// Paints [bottom, top) and writes `used` bytes at its top with something else.
        mutating func stack(_ bottom: UInt32, _ top: UInt32, used: UInt32) {
            var address = bottom
            while address < top {
                store(address, word: address >= top - used ? 0x1234_5678 : TaskTableImage.paintWord)
                address += 4
            }
        }
    }

    struct FakeTask {
        var name: String, state: UInt8, priority: UInt8, protections: UInt8
        var bottom: UInt32, top: UInt32, savedSP: UInt32, waitingOn: UInt32 = 0, waitStart: UInt32 = 0
        var used: UInt32, historyHighWater: UInt32 = 0, faults: UInt8 = 0
        var overflows: UInt8 = 0, overflowBytes: UInt32 = 0, harmedBy: UInt8 = 0
    }

    let scheduler: UInt32 = 0x2000_1000
    let tcbs: UInt32 = 0x2000_1100
    let histories: UInt32 = 0x2000_1800
    let names: UInt32 = 0x0000_9000
    let mutex: UInt32 = 0x2000_1F00
    let tick: UInt32 = 0x2000_1E00

    /// An image and memory holding `tasks` (idle must be last), `current` running.
    func target(_ tasks: [FakeTask], current: Int?, taskCount: Int? = nil) throws -> (TaskTableImage, FakeMemory) {
        let layout = try KernelDebugLayout(words: Self.words)
        var memory = FakeMemory()
        var constants: [UInt8] = []
        memory.store(scheduler, word: current.map { tcbs + UInt32($0 * 128) } ?? 0)
        memory.store(scheduler + 4, word: tcbs)
        for (index, task) in tasks.enumerated() {
            let block = tcbs + UInt32(index * 128)
            for offset in stride(from: 0, to: 128, by: 4) { memory.store(block + UInt32(offset), word: 0) }
            memory.store(block + 32, word: task.savedSP)
            memory.store(block + 60, byte: task.state)
            memory.store(block + 62, byte: task.priority)
            memory.store(block + 63, byte: task.protections)
            memory.store(block + 72, word: task.bottom)
            memory.store(block + 76, word: task.top)
            memory.store(block + 92, word: names + UInt32(constants.count))
            memory.store(block + 96, word: UInt32(task.name.utf8.count))
            memory.store(block + 120, word: task.waitingOn)
            memory.store(block + 112, word: task.waitStart)
            constants += Array(task.name.utf8)
            let history = histories + UInt32(index * 20)
            for offset in stride(from: 0, to: 20, by: 4) { memory.store(history + UInt32(offset), word: 0) }
            memory.store(history, word: task.historyHighWater)
            memory.store(history + 9, byte: task.faults)
            memory.store(history + 4, word: task.overflowBytes)
            memory.store(history + 10, byte: task.overflows)
            memory.store(history + 8, byte: task.harmedBy)
            memory.stack(task.bottom, task.top, used: task.used)
        }
        memory.stack(0x2000_3000, 0x2000_3800, used: 200)
        var image = TaskTableImage(layout: layout, scheduler: scheduler, histories: histories, handlerStack: 0x2000_3000..<0x2000_3800,
                                   taskCount: taskCount, constants: [(names, constants)])
        // The mutex 'bus' at `mutex`, held by task 2 (its second word: index + 1), and the tick now.
        image.waitObjects = [mutex: WaitObject(kind: .mutex, name: "bus", index: 0),
                             mutex + 8: WaitObject(kind: .queueReceive, name: "samples", index: 0)]
        memory.store(mutex, word: 0b10)
        memory.store(mutex + 4, word: 3 | 0x100)
        image.tickCounter = tick
        memory.store(tick, word: 540)
        return (image, memory)
    }

    let sample = [
        FakeTask(name: "control", state: 0, priority: 3, protections: 1 | 16, bottom: 0x2000_0000, top: 0x2000_0400,
                 savedSP: 0x2000_03C0, used: 292),
        FakeTask(name: "logger", state: 2, priority: 2, protections: 1 | 2 | 16, bottom: 0x2000_0400, top: 0x2000_0A00,
                 savedSP: 0x2000_09A0, waitingOn: 0x2000_1F00, waitStart: 40, used: 120, historyHighWater: 800, faults: 2),
        FakeTask(name: "blink", state: 1, priority: 1, protections: 1 | 4 | 8, bottom: 0x2000_0A00, top: 0x2000_0D00,
                 savedSP: 0x2000_0CE0, used: 56),
        FakeTask(name: "dead", state: 4, priority: 1, protections: 32, bottom: 0x2000_0D00, top: 0x2000_0E00,
                 savedSP: 0x2000_0D80, used: 0, faults: 1),
        FakeTask(name: "idle", state: 0, priority: 0, protections: 1, bottom: 0x2000_0E00, top: 0x2000_1000,
                 savedSP: 0x2000_0FE0, used: 32),
    ]

    func testTheTableShowsEveryTaskAsTheKernelHoldsIt() throws {
        let (image, memory) = try target(sample, current: 0, taskCount: 5)
        var target = memory
        let table = try TaskTable.read(image, from: &target, stackPointer: 0x2000_0390)
        XCTAssertEqual(table.running, "control")
        XCTAssertEqual(table.tasks.map(\.name), ["control", "logger", "blink", "dead", "idle"])
        XCTAssertEqual(table.tasks[0], TaskRow(name: "control", state: "running", priority: 3, stackBottom: 0x2000_0000,
                                               stackTop: 0x2000_0400, usedNow: 0x70, highWater: 292,
                                               protection: ["paint", "mpu-region"], faults: 0),
                       "the running task's SP is the core's when it lies in its stack")
        XCTAssertEqual(table.tasks[1].state, "waiting", "blocked on an object")
        XCTAssertEqual(table.tasks[1].waitingFor, "mutex 'bus' held by 'blink'", "the object by its address, a mutex with its holder")
        XCTAssertEqual(table.tasks[1].waitingSince, 40)
        XCTAssertEqual(table.tick, 540)
        XCTAssertNil(table.tasks[2].waitingFor, "sleeping is no wait on an object")
        XCTAssertEqual(table.tasks[1].highWater, 800, "the history's mark when a repaint lowered the paint's")
        XCTAssertEqual(table.tasks[1].usedNow, 0x60)
        XCTAssertEqual(table.tasks[1].faults, 2)
        XCTAssertEqual(table.tasks[1].protection, ["paint", "limit-register", "mpu-region"])
        XCTAssertEqual(table.tasks[2].state, "sleeping")
        XCTAssertEqual(table.tasks[2].protection, ["paint", "red-zone", "sp-check"])
        XCTAssertEqual(table.tasks[2].highWater, 56)
        XCTAssertEqual(table.tasks[3].state, "killed")
        XCTAssertNil(table.tasks[3].highWater, "not painted: no mark")
        XCTAssertNil(table.tasks[3].usedNow, "a stopped task holds nothing")
        XCTAssertEqual(table.tasks[3].protection, ["mpu-guard"])
        XCTAssertEqual(table.tasks[4].state, "ready")
        XCTAssertEqual(table.handler, HandlerStackRow(size: 2048, highWater: 200))

        let text = RunReport.taskTable(table)
        XCTAssertEqual(text.split(separator: "\n").first,
                       "task     state     priority  stack  now   %  high-water   %  protection                         faults  waiting for")
        XCTAssertTrue(text.contains("logger   waiting          2   1536   96   6         800  52  paint, limit-register, mpu-region       2  "
            + "mutex 'bus' held by 'blink' since tick 40 (500 ticks ago)"), text)
        XCTAssertTrue(text.contains("dead     killed           1    256    ?   ?           ?   ?  mpu-guard                               1\n"), text)
        XCTAssertTrue(text.hasSuffix("handler  -                -   2048    -   -         200  10  -                                       -"), text)
        // JSON keeps the wait, and reads back the same.
        let json = RunReport.json(table)
        XCTAssertTrue(json.contains("\"waiting_for\":\"mutex 'bus' held by 'blink'\""), json)
        XCTAssertTrue(json.contains("\"waiting_since\":40"), json)
        let decoded = try JSONDecoder().decode(TaskTable.self, from: Data(json.utf8))
        XCTAssertEqual(decoded.tasks, table.tasks)
        XCTAssertEqual(decoded.tick, 540)
    }

    func testTheRunningTaskUsesItsSavedPointerWhenTheCoreIsInAHandler() throws {
        let (image, memory) = try target(sample, current: 2)
        var target = memory
        let table = try TaskTable.read(image, from: &target, stackPointer: 0x2000_3700)
        XCTAssertEqual(table.running, "blink")
        XCTAssertEqual(table.tasks[2].state, "running")
        XCTAssertEqual(table.tasks[2].usedNow, 0x20)
    }

    func testWithoutACountTheTableEndsAtIdle() throws {
        let (image, memory) = try target(sample, current: 4)
        var target = memory
        let table = try TaskTable.read(image, from: &target)
        XCTAssertEqual(table.tasks.count, 5)
        XCTAssertEqual(table.running, "idle")
    }

    func testAPaintedStackIsReadUpwardOnlyToItsFirstUsedWord() throws {
        var tasks = sample
        tasks[0].bottom = 0x2000_0000 - 0x2000  // 9 KB: nine chunks of 1024 would be too many
        tasks[0].used = 64
        let (image, memory) = try target(tasks, current: nil, taskCount: 5)
        var target = memory
        _ = try TaskTable.read(image, from: &target)
        let withWholeStacks = target.reads
        var alone = memory
        XCTAssertEqual(try TaskTable.highWaterMark(0x2000_0000 - 0x2000..<0x2000_0400, memory: &alone), 64)
        XCTAssertEqual(alone.reads, 9, "9 KB read in 1 KB requests up to the used part")
        XCTAssertLessThan(withWholeStacks, 30)
    }

    /// A stopped task says why in `keel top` as in the run's stack table: its own overflows
    /// (how many, how far below they could reach) or whose overflow harmed it.
    func testAStoppedTaskSaysWhyAsTheStackTableDoes() throws {
        var tasks = sample
        tasks[2] = FakeTask(name: "runaway", state: 4, priority: 1, protections: 1 | 8, bottom: 0x2000_0A00, top: 0x2000_0D00,
                            savedSP: 0x2000_0CE0, used: 56, faults: 3, overflows: 3, overflowBytes: 64)
        tasks[3].harmedBy = 3  // 1 + the index of 'runaway'
        let (image, memory) = try target(tasks, current: 0, taskCount: 5)
        var target = memory
        let table = try TaskTable.read(image, from: &target, stackPointer: 0x2000_0390)
        XCTAssertEqual(table.tasks[2].overflows, 3)
        XCTAssertEqual(table.tasks[2].overflowBytes, 64)
        XCTAssertEqual(table.tasks[3].harmedBy, "runaway")
        let text = RunReport.taskTable(table)
        XCTAssertTrue(text.contains("runaway  killed, overflowed 3 times, up to 64 bytes below the stack in reach"), text)
        XCTAssertTrue(text.contains("dead     killed, stack overwritten by 'runaway'"), text)
        let json = RunReport.json(table)
        XCTAssertTrue(json.contains("\"overflows\":3") && json.contains("\"overflow_bytes\":64") && json.contains("\"harmed_by\":\"runaway\""), json)
    }

    func testMistakesAreErrors() throws {
        XCTAssertThrowsError(try KernelDebugLayout(words: [0] + Self.words.dropFirst())) {
            XCTAssertTrue("\($0)".contains("not a Keel kernel's debug table"), "\($0)")
        }
        XCTAssertThrowsError(try KernelDebugLayout(words: [Self.words[0], 1] + Self.words.dropFirst(2))) {
            XCTAssertTrue("\($0)".contains("version 1"), "\($0)")
        }
        var offsetOutside = Self.words
        offsetOutside[9] = 124
        XCTAssertThrowsError(try KernelDebugLayout(words: offsetOutside))
        var waitStartOutside = Self.words
        waitStartOutside[14] = 126
        XCTAssertThrowsError(try KernelDebugLayout(words: waitStartOutside))

        // A manifest that does not describe the image.
        let (image, memory) = try target(sample, current: 0, taskCount: 3)
        var mismatched = memory
        XCTAssertThrowsError(try TaskTable.read(image, from: &mismatched)) {
            XCTAssertTrue("\($0)".contains("task 3 of the image's table is 'blink', not idle"), "\($0)")
        }
        // Before the kernel started: no table yet.
        var early = memory
        early.store(scheduler + 4, word: 0)
        XCTAssertThrowsError(try TaskTable.read(image, from: &early)) {
            XCTAssertTrue("\($0)".contains("has not started its tasks yet"), "\($0)")
        }
        // No idle anywhere: the walk stops at the 32nd block.
        var noIdle = sample
        noIdle[4].name = "idly"
        let (walkImage, walkMemory) = try target(noIdle, current: 0)
        var walk = walkMemory
        XCTAssertThrowsError(try TaskTable.read(walkImage, from: &walk)) { XCTAssertEqual(($0 as? KeelError)?.exitCode, 1) }
    }
}
