// The manifest is read strictly: what it accepts, and the message for each kind of mistake.

import Foundation
@testable import KeelKit
import XCTest

final class ManifestTests: XCTestCase {
    let m3 = try! BoardCatalog.board(named: "mps2-an385")
    let m33 = try! BoardCatalog.board(named: "mps2-an505")
    let directory = URL(fileURLWithPath: "/tmp/app")

    func parse(_ json: String, board: Board? = nil) throws(KeelError) -> Application {
        let object = try! JSONSerialization.jsonObject(with: Data(json.utf8))
        return try Manifest.parse(object, path: "keel.json", directory: directory, board: board ?? m3)
    }

    func problem(_ json: String, board: Board? = nil) -> String {
        do {
            _ = try parse(json, board: board)
            return "no error"
        } catch {
            return error.description
        }
    }

    func testAcceptsAFullManifestWithDefaults() throws {
        let application = try parse("""
        {"name": "demo", "tasks": [
          {"name": "a", "entry": "taskA", "priority": 2, "stack": 1024, "protection": ["paint", "red-zone"], "red_zone": 32},
          {"name": "b", "entry": "taskB", "priority": 1, "stack": 512}]}
        """)
        XCTAssertEqual(application.tickHertz, 1000)
        XCTAssertEqual(application.handlerStackBytes, 2048)
        XCTAssertEqual(application.tasks.map(\.name), ["a", "b"])
        XCTAssertEqual(application.tasks[0].protections, [.paint, .redZone])
        XCTAssertEqual(application.tasks[0].redZoneBytes, 32)
        XCTAssertEqual(application.tasks[1].protections, [.paint, .mpuRegion], "the board's strongest is the default")
        XCTAssertEqual(application.tasks[1].redZoneBytes, 0)
    }

    func testKernelObjectsAreReadWithTheirSizes() throws {
        let application = try parse("""
        {"name": "x", "tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024}],
         "queues": {"samples": {"element": "UInt32", "capacity": 5}, "frames": {"element": "Frame", "capacity": 2, "element_bytes": 12}},
         "semaphores": {"ready": {"initial": 1, "max": 1}, "slots": {}},
         "mutexes": {"bus": {}, "plain": {"priority_inheritance": false}}}
        """)
        let objects = application.objects
        XCTAssertEqual(objects.queues.map(\.name), ["frames", "samples"])
        XCTAssertEqual(objects.queues.map(\.bytes), [16 + 24, 16 + 24], "header + slots rounded to 8")
        XCTAssertEqual(objects.semaphores.map(\.maximum), [1, 65535])
        XCTAssertEqual(objects.semaphores.map(\.initial), [1, 0])
        XCTAssertEqual(objects.mutexes.map(\.inheritsPriority), [true, false])
        XCTAssertEqual(objects.totalBytes, 40 + 40 + 8 + 8 + 8 + 8)
    }

    func testPoolsAreReadWithTheirStorage() throws {
        let application = try parse("""
        {"name": "x", "tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024}],
         "pools": {"buffers": {"block": 128, "count": 8}, "records": {"block": 100, "count": 40}}}
        """)
        let pools = application.objects.pools
        XCTAssertEqual(pools.map(\.name), ["buffers", "records"])
        XCTAssertEqual(pools.map(\.stride), [128, 104], "blocks 8-byte aligned")
        XCTAssertEqual(pools.map(\.strideShift), [7, 0], "a shift for 128, a division for 104")
        // Waiters, the full-words summary and the bitmap (1 and 2 words), rounded to 8.
        XCTAssertEqual(pools.map(\.headerBytes), [16, 16])
        XCTAssertEqual(pools.map(\.bytes), [16 + 8 * 128, 16 + 40 * 104])
        XCTAssertEqual(application.objects.summary.map(\.detail), ["8 × 128-byte blocks", "40 × 100-byte blocks (104 in storage)"])

        let task = #""tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024}]"#
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "pools": {"p": {"block": 64}}}"#),
                       "keel.json: 'pools'.'p': 'count' is missing (how many blocks)")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "pools": {"p": {"count": 4}}}"#),
                       "keel.json: 'pools'.'p': 'block' is missing (the bytes of one block)")
        XCTAssertTrue(problem(#"{"name": "x", \#(task), "pools": {"p": {"block": 2, "count": 4}}}"#).hasPrefix("keel.json: 'pools'.'p': 'block' must be"))
        XCTAssertTrue(problem(#"{"name": "x", \#(task), "pools": {"p": {"block": 8, "count": 5000}}}"#).hasPrefix("keel.json: 'pools'.'p': 'count' must be"))
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "pools": {"p": {"block": 8, "count": 4, "align": 16}}}"#),
                       "keel.json: 'pools'.'p': unknown key 'align' (known: block, count)")
    }

    func testEventFlagsTimersAndStreamBuffers() throws {
        let application = try parse("""
        {"name": "x", "tick_hz": 100, "tasks": [{"name": "a", "entry": "a", "priority": 3, "stack": 1024}],
         "event_flags": {"radio": {}, "ready": {"initial": 5}},
         "timers": {"blink": {"callback": "blinkExpired", "period_ms": 25, "start": true}, "once": {"callback": "f", "after_ms": 1}},
         "stream_buffers": {"rx": {"bytes": 13, "trigger": 4}}}
        """)
        let objects = application.objects
        XCTAssertEqual(objects.eventFlags.map(\.initial), [0, 5])
        XCTAssertEqual(objects.timers.map(\.periodic), [true, false])
        XCTAssertEqual(objects.timers.map { $0.ticks(tickHertz: 100) }, [3, 1], "whole ticks, rounded up, at least one")
        XCTAssertEqual(objects.streamBuffers.map(\.bytes), [16 + 16])
        // The timer task: a task like the others, above every task, its stack from the analysis.
        let timers = try XCTUnwrap(application.tasks.last)
        XCTAssertEqual([timers.name, timers.entry], [Manifest.timerTaskName, Manifest.timerTaskEntry])
        XCTAssertEqual(timers.priority, 4)
        XCTAssertTrue(timers.automaticStack)

        let task = #""tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024}]"#
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "timers": {"t": {"callback": "f"}}}"#),
                       "keel.json: 'timers'.'t': give 'period_ms' (a periodic timer) or 'after_ms' (a one-shot), one of the two")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "timers": {"t": {"callback": "my-f", "after_ms": 5}}}"#),
                       "keel.json: 'timers'.'t': 'callback' must name a Swift function of the application that takes nothing, such as \"blinkExpired\"")
        XCTAssertEqual(problem(#"{"name": "x", "tick_hz": 0, \#(task), "timers": {"t": {"callback": "f", "after_ms": 5}}}"#),
                       "keel.json: 'timers' need the tick, and 'tick_hz' is 0")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "timer_task": {"priority": 3}}"#),
                       "keel.json: 'timer_task' is set but there are no 'timers'")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{"name": "timers", "entry": "a", "priority": 1, "stack": 1024}], "timers": {"t": {"callback": "f", "after_ms": 5}}}"#),
                       "keel.json: a task is called 'timers', the name of the timer task that 'timers' need; rename it")
        XCTAssertTrue(problem(#"{"name": "x", \#(task), "stream_buffers": {"s": {"bytes": 8, "trigger": 9}}}"#)
            .hasPrefix("keel.json: 'stream_buffers'.'s': 'trigger' must be"))
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "event_flags": {"e": {"bits": 3}}}"#),
                       "keel.json: 'event_flags'.'e': unknown key 'bits' (known: initial)")
    }

    /// "console": the transmit ring (a power of two, 256 by default, 0 keeps lines polled) and
    /// the input buffer (none by default).
    func testConsoleBuffers() throws {
        let task = #""tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024}]"#
        let plain = try parse(#"{"name": "x", \#(task)}"#).console
        XCTAssertEqual([plain.outputBytes, plain.inputBytes], [256, 0])
        // None where RAM is scarce (the micro:bit's 16 KiB): polled unless asked for.
        XCTAssertEqual(try parse(#"{"name": "x", \#(task)}"#, board: BoardCatalog.board(named: "microbit")).console.outputBytes, 0)
        let shell = try parse(#"{"name": "x", \#(task), "console": {"output": 1024, "input": 72}}"#).console
        XCTAssertEqual([shell.outputBytes, shell.inputBytes, shell.bytes], [1024, 72, 1024 + 16 + 72])
        XCTAssertEqual(try parse(#"{"name": "x", \#(task), "console": {"output": 0}}"#).console.outputBytes, 0)
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "console": {"output": 200}}"#),
                       "keel.json: 'console.output' must be 0 or a power of two from 128 to 16384 bytes")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "console": {"input": 4}}"#),
                       "keel.json: 'console.input' must be 0 or a multiple of 8 from 8 to 16384 bytes")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "console": {"inputs": 64}}"#),
                       "keel.json: 'console' has an unknown key 'inputs' (known: input, output)")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "console": 256}"#),
                       "keel.json: 'console' must be an object: {\"output\": bytes, \"input\": bytes}")
    }

    /// "handler_stack": a number, or one per board with a default.
    func testHandlerStackPerBoard() throws {
        let task = #""tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024}]"#
        let microbit = try BoardCatalog.board(named: "microbit")
        let json = #"{"name": "x", "handler_stack": {"default": 1664, "microbit": 1408}, \#(task)}"#
        XCTAssertEqual(try parse(json).handlerStackBytes, 1664)
        XCTAssertEqual(try parse(json, board: microbit).handlerStackBytes, 1408)
        XCTAssertEqual(problem(#"{"name": "x", "handler_stack": {"microbit": 1408}, \#(task)}"#),
                       "keel.json: 'handler_stack' has no value for mps2-an385 and no \"default\"")
        XCTAssertEqual(problem(#"{"name": "x", "handler_stack": {"default": 1024, "microbot": 1408}, \#(task)}"#),
                       "keel.json: 'handler_stack' has a value for 'microbot', which is no board (`keel boards` lists them)")
    }

    /// "deadline_ms": on a board with a watchdog, with the tick; in ticks, rounded up.
    func testTicklessAndLogChannelDefaultsAndChoices() throws {
        let task = #""name": "a", "entry": "a", "priority": 1, "stack": 1024"#
        let plain = try parse(#"{"name": "x", "tasks": [{\#(task)}]}"#)
        XCTAssertTrue(plain.ticklessIdle)
        XCTAssertEqual(plain.log, .uart)
        XCTAssertFalse(try parse(#"{"name": "x", "tickless": false, "tasks": [{\#(task)}]}"#).ticklessIdle)
        XCTAssertEqual(try parse(#"{"name": "x", "log": "rtt", "tasks": [{\#(task)}]}"#).log, .rtt(bytes: 1024))
        XCTAssertEqual(try parse(#"{"name": "x", "log": {"to": "rtt", "bytes": 4096}, "tasks": [{\#(task)}]}"#).log, .rtt(bytes: 4096))
        XCTAssertEqual(try parse(#"{"name": "x", "log": {"to": "uart"}, "tasks": [{\#(task)}]}"#).log, .uart)
    }

    func testWatchdogDeadlines() throws {
        let task = #""name": "a", "entry": "a", "priority": 1, "stack": 1024"#
        XCTAssertEqual(try parse(#"{"name": "x", "tasks": [{\#(task), "deadline_ms": 20}]}"#).tasks[0].deadlineMilliseconds, 20)
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "deadline_ms": 0}]}"#),
                       "keel.json: task 'a': 'deadline_ms' must be a whole number of milliseconds from 1 to 60000 (how often the task checks in)")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "deadline_ms": 20}]}"#, board: try BoardCatalog.board(named: "microbit")),
                       "keel.json: task 'a': 'deadline_ms' needs a watchdog, and microbit has none that Keel drives (mps2-an385, mps2-an386, mps2-an500 have)")
        XCTAssertEqual(problem(#"{"name": "x", "tick_hz": 0, "tasks": [{\#(task), "deadline_ms": 20}]}"#),
                       "keel.json: 'deadline_ms' needs the tick, and 'tick_hz' is 0")
    }

    func testKernelObjectMistakesNameTheObject() {
        let task = #""tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024}]"#
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "queues": {"q": {"element": "Frame", "capacity": 2}}}"#),
                       "keel.json: 'queues'.'q': Keel does not know the size of 'Frame'; add \"element_bytes\": MemoryLayout<Frame>.stride")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "queues": {"q": {"element": "UInt8"}}}"#),
                       "keel.json: 'queues'.'q': 'capacity' is missing (the most elements it holds)")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "queues": {"q": {"element": "UInt8", "capacity": 0}}}"#),
                       "keel.json: 'queues'.'q': 'capacity' must be a whole number from 1 to 65535")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "queues": {"q": {"element": "UInt64", "capacity": 4000}}}"#),
                       "keel.json: 'queues'.'q': 4000 × 8 bytes is 32016 bytes; a queue holds at most 16384")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "semaphores": {"s": {"initial": 3, "max": 2}}}"#),
                       "keel.json: 'semaphores'.'s': 'initial' must be a whole number from 0 to 2 (at most its 'max')")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "mutexes": {"my-bus": {}}}"#),
                       "keel.json: 'mutexes': 'my-bus' must be a Swift name of 1-24 letters, digits or '_' (it becomes a constant of the application)")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "mutexes": {"bus": {}}, "semaphores": {"bus": {}}}"#),
                       "keel.json: two kernel objects are called 'bus'")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "mutexes": {"bus": {"inherit": true}}}"#),
                       "keel.json: 'mutexes'.'bus': unknown key 'inherit' (known: priority_inheritance)")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "mutexes": ["bus"]}"#),
                       "keel.json: 'mutexes' must be an object keyed by name")
        XCTAssertEqual(problem(#"{"name": "x", \#(task), "mutexes": {"bus": {"priority_inheritance": 1}}}"#),
                       "keel.json: 'mutexes'.'bus': 'priority_inheritance' must be true or false")
    }

    func testPerBoardProtectionPicksTheBoardOrTheDefault() throws {
        let json = """
        {"name": "x", "tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024,
          "protection": {"default": ["sp-check"], "mps2-an505": ["limit-register"]}}]}
        """
        XCTAssertEqual(try parse(json, board: m3).tasks[0].protections, [.stackPointerCheck])
        XCTAssertEqual(try parse(json, board: m33).tasks[0].protections, [.limitRegister])
    }

    /// `"segment_allocator"`: the two of the kernel, a type of the application's, or a clear error.
    func testSegmentAllocatorChoice() throws {
        func manifest(_ allocator: String, pool: Int = 4096) -> String {
            #"{"name": "s", "segment_pool": \#(pool), "segment_allocator": \#(allocator), "tasks": [{"name": "a", "entry": "f", "priority": 1, "#
                + #""stack": {"segmented": {"initial": 640, "max": 2688}}}]}"#
        }
        XCTAssertEqual(try parse(manifest(#""pool""#)).segmentAllocator, .pool)
        XCTAssertEqual(try parse(manifest(#""reserved""#)).segmentAllocator, .reserved)
        XCTAssertEqual(try parse(manifest(#""BumpSegments""#)).segmentAllocator, .custom("BumpSegments"))
        XCTAssertTrue(problem(manifest(#""reserved""#, pool: 1024)).contains("2048 bytes in all, more than the 1024-byte 'segment_pool'"))
        XCTAssertTrue(problem(manifest(#""no such thing""#)).contains("is not a Swift type name"))
        XCTAssertTrue(problem(manifest("7")).contains("'segment_allocator' must be"))
    }

    /// `"segment_guard"`: on by default, on the M3 only; a boolean, and only with a segmented task.
    func testSegmentGuardChoice() throws {
        let segmented = #"[{"name": "a", "entry": "f", "priority": 1, "stack": {"segmented": {"initial": 640, "max": 2688}}}]"#
        let m0 = try BoardCatalog.board(named: "microbit")
        let guarded = try parse(#"{"name": "s", "tasks": \#(segmented)}"#)
        XCTAssertTrue(guarded.segmentGuard)
        XCTAssertTrue(guarded.usesSegmentGuard(on: m3))
        XCTAssertFalse(guarded.usesSegmentGuard(on: m33), "the M33 has PSPLIM at the segment's bottom instead")
        XCTAssertFalse(guarded.usesSegmentGuard(on: m0), "no MPU")
        XCTAssertFalse(try parse(#"{"name": "s", "segment_guard": false, "tasks": \#(segmented)}"#).usesSegmentGuard(on: m3))
        XCTAssertEqual(problem(#"{"name": "s", "segment_guard": 1, "tasks": \#(segmented)}"#),
                       "keel.json: 'segment_guard' must be true or false")
        XCTAssertEqual(problem(#"{"name": "s", "segment_guard": true, "tasks": [{"name": "a", "entry": "f", "priority": 1, "stack": 1024}]}"#),
                       "keel.json: 'segment_guard' is set but no task has a segmented stack")
        // The planner puts the guard in the task's first switch region, above the landing pad.
        let layout = try LayoutPlanner.plan(guarded, on: m3)
        let region = try XCTUnwrap(layout.switchRegions[0].regions.first)
        XCTAssertEqual(region.base, layout.taskStacks[0].bottom + 32)
        XCTAssertEqual(region.size, 32)
        XCTAssertEqual(region.access, .noAccess)
        XCTAssertTrue(try LayoutPlanner.plan(guarded, on: m33).switchRegions[0].regions.isEmpty)
    }

    /// `"boards"`: the boards the application is made for; another board is refused by name.
    func testBoardsNameWhereTheApplicationRuns() throws {
        let tasks = #""tasks": [{"name": "a", "entry": "a", "priority": 1, "stack": 1024}]"#
        let m0 = try BoardCatalog.board(named: "microbit")
        XCTAssertNil(try parse(#"{"name": "x", \#(tasks)}"#).boards, "absent: every board")
        XCTAssertEqual(try parse(#"{"name": "x", "boards": ["mps2-an385"], \#(tasks)}"#).boards, ["mps2-an385"])
        XCTAssertEqual(problem(#"{"name": "x", "boards": ["mps2-an385", "mps2-an505"], \#(tasks)}"#, board: m0),
                       "keel.json: 'x' is made for mps2-an385, mps2-an505 (its \"boards\"), not microbit")
        XCTAssertEqual(problem(#"{"name": "x", "boards": ["stm32"], \#(tasks)}"#),
                       "keel.json: 'boards' names an unknown board 'stm32' (known: mps2-an385, mps2-an386, mps2-an500, mps2-an505, mps3-an547, microbit, netduinoplus2)")
        for bad in ["[]", "\"mps2-an385\"", "[1]"] {
            XCTAssertEqual(problem(#"{"name": "x", "boards": \#(bad), \#(tasks)}"#),
                           "keel.json: 'boards' must be a non-empty array of board names (known: mps2-an385, mps2-an386, mps2-an500, mps2-an505, mps3-an547, microbit, netduinoplus2)", bad)
        }
        XCTAssertEqual(problem(#"{"name": "x", "boards": ["microbit", "microbit"], \#(tasks)}"#, board: m0),
                       "keel.json: 'boards' names a board twice")
    }

    func testMistakesNameTheKey() {
        let task = #""name": "a", "entry": "a", "priority": 1, "stack": 1024"#
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task)}], "colour": 1}"#),
                       "keel.json: unknown key 'colour' (known: analysis, boards, console, event_flags, float, handler_expect, handler_guard, handler_stack, log, mutexes, name, pools, queues, segment_allocator, segment_guard, segment_pool, semaphores, stack_check, stream_buffers, tasks, tick_hz, tickless, timer_task, timers, zero_latency_interrupts)")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": []}"#), "keel.json: 'tasks' must be a non-empty array of task objects")
        XCTAssertEqual(problem(#"{"name": "x", "tickless": 1, "tasks": [{\#(task)}]}"#), "keel.json: 'tickless' must be true or false")
        for bad in [#""swd""#, "1", #"{"to": "probe"}"#, #"{"bytes": 512}"#] {
            XCTAssertEqual(problem(#"{"name": "x", "log": \#(bad), "tasks": [{\#(task)}]}"#),
                           #"keel.json: 'log' must be "uart", "rtt" or {"to": "rtt", "bytes": N}"#, bad)
        }
        XCTAssertEqual(problem(#"{"name": "x", "log": {"to": "rtt", "bytes": 100}, "tasks": [{\#(task)}]}"#), "keel.json: 'log': \"bytes\" must be a multiple of 8")
        XCTAssertEqual(problem(#"{"name": "x", "log": {"to": "uart", "bytes": 512}, "tasks": [{\#(task)}]}"#),
                       "keel.json: 'log': \"bytes\" is the RTT channel's size; the UART has none")
        XCTAssertEqual(problem(#"{"name": "x", "log": {"to": "rtt", "size": 512}, "tasks": [{\#(task)}]}"#),
                       "keel.json: 'log' has an unknown key 'size' (known: bytes, to)")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "priority": 300}]}"#),
                       "keel.json: task 'a': 'priority' must be a whole number from 1 to 254")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "stack": 1000.5}]}"#),
                       "keel.json: task 'a': 'stack' must be a whole number of bytes, \"auto\", or {\"segmented\": {\"initial\": N, \"max\": M}}")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "stack": 100}]}"#),
                       "keel.json: task 'a': 'stack' must be at least 256 bytes and a multiple of 8")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "protection": ["mpu-magic"]}]}"#),
                       "keel.json: task 'a': unknown protection 'mpu-magic' (known: paint, limit-register, mpu-region, mpu-guard, red-zone, sp-check, prologue-check)")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "red_zone": 32}]}"#),
                       "keel.json: task 'a': 'red_zone' is set but 'protection' has no red-zone")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "protection": ["red-zone"], "red_zone": 20}]}"#),
                       "keel.json: task 'a': 'red_zone' must be a multiple of 16 bytes (checked four words at a time)")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task)}, {\#(task)}]}"#), "keel.json: two tasks are called 'a'")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "priority": true}]}"#),
                       "keel.json: task 'a': 'priority' must be a whole number from 1 to 254")
        // Idle's level: a task there would share its turns (Kernel.start makes equal priorities peers).
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "priority": 0}]}"#),
                       "keel.json: task 'a': 'priority' 0 is the idle task's level: a task there would share turns with idle and not "
                       + "preempt it when woken; use 1 to 254 (1 is the least urgent)")
    }

    func testFaultPoliciesAndGuards() throws {
        let json = """
        {"name": "x", "tasks": [
          {"name": "a", "entry": "a", "priority": 1, "stack": 1024, "protection": ["mpu-guard"], "guard": 256,
           "on_fault": {"restart": 3, "window_ms": 500, "then": "reset"}},
          {"name": "b", "entry": "b", "priority": 1, "stack": 1024, "protection": ["mpu-region"], "on_fault": "reset"},
          {"name": "c", "entry": "c", "priority": 1, "stack": 1024}]}
        """
        let tasks = try parse(json, board: m3).tasks
        XCTAssertEqual(tasks[0].faultPolicy, .restart(times: 3, windowMilliseconds: 500, then: .reset))
        XCTAssertEqual(tasks[0].guardBytes, 256)
        XCTAssertEqual(tasks[1].faultPolicy, .reset)
        XCTAssertEqual(tasks[1].guardBytes, 0)
        XCTAssertEqual(tasks[2].faultPolicy, .kill, "kill is the default")
        let task = #""name": "a", "entry": "a", "priority": 1, "stack": 1024"#
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "on_fault": "explode"}]}"#),
                       #"keel.json: task 'a': 'on_fault' must be "kill", "reset" or {"restart": N, "window_ms": T, "then": "kill"|"reset"}"#)
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "on_fault": {"restart": 2, "then": "pray"}}]}"#),
                       #"keel.json: task 'a': 'on_fault.then' must be "kill" or "reset""#)
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{\#(task), "protection": ["mpu-guard"], "guard": 100}]}"#),
                       "keel.json: task 'a': 'guard' must be a multiple of 32 bytes (the MPU's granule)")
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [{"name": "idle", "entry": "a", "priority": 1, "stack": 1024}]}"#),
                       "keel.json: task 'idle': 'idle' is the kernel's own (its idle task or handler stack); choose another name")
        let microbit = try BoardCatalog.board(named: "microbit")
        XCTAssertThrowsError(try parse(#"{"name": "x", "tasks": [{\#(task), "protection": ["mpu-region"]}]}"#, board: microbit)) {
            XCTAssertEqual("\($0)", "keel.json: task 'a': mpu-region needs an MPU, which microbit (cortex-m0) does not have")
        }
    }

    func testSegmentedStacks() throws {
        let application = try parse("""
        {"name": "s", "segment_pool": 4096, "tasks": [
          {"name": "a", "entry": "taskA", "priority": 1, "stack": {"segmented": {"initial": 768, "max": 4096}}},
          {"name": "b", "entry": "taskB", "priority": 1, "stack": {"segmented": {"initial": 1024, "max": 8192, "segment": 2048}}},
          {"name": "c", "entry": "taskC", "priority": 1, "stack": 1024}]}
        """)
        XCTAssertEqual(application.segmentPoolBytes, 4096)
        XCTAssertEqual(application.tasks[0].segmented, SegmentedStack(initialBytes: 768, maximumBytes: 4096, segmentBytes: 1024))
        XCTAssertEqual(application.tasks[0].stackBytes, 768, "the first segment is what the planner places")
        XCTAssertEqual(application.tasks[1].segmented?.segmentBytes, 2048)
        XCTAssertNil(application.tasks[2].segmented)
        let layout = try LayoutPlanner.plan(application, on: m3)
        let pool = try XCTUnwrap(layout.segmentPool)
        XCTAssertEqual(pool.bytes, 4096)
        XCTAssertEqual(pool.bottom % 64, 0)
        XCTAssertLessThan(pool.top, layout.handlerStack.guardBottom, "the pool lies among the stacks, below the handler stack")

        func task(_ stack: String, _ extra: String = "") -> String {
            "{\"name\": \"s\", \"tasks\": [{\"name\": \"a\", \"entry\": \"t\", \"priority\": 1, \"stack\": \(stack)\(extra)}]}"
        }
        XCTAssertTrue(problem(task(#"{"segmented": {"initial": 512, "max": 4096}}"#)).contains("'initial' must be a whole number from 640"))
        XCTAssertTrue(problem(task(#"{"segmented": {"initial": 1024, "max": 512}}"#)).contains("'max' must be a whole number from 1024"))
        XCTAssertTrue(problem(task(#"{"segmented": {"initial": 1024}}"#)).contains("needs 'initial'"))
        // "initial": "auto": the analysis sizes the first segment at build time; the smallest until then.
        let automatic = try parse(task(#"{"segmented": {"initial": "auto", "max": 4096}}"#)).tasks[0]
        XCTAssertTrue(automatic.automaticStack)
        XCTAssertEqual(automatic.segmented?.initialBytes, SegmentedStack.minimumInitialBytes)
        XCTAssertTrue(problem(task(#"{"segmented": {"initial": "big", "max": 4096}}"#)).contains("'initial' must be a whole number"))
        XCTAssertTrue(problem(task(#"{"segmented": {"initial": 1024, "max": 99999999}}"#)).contains("larger than mps2-an385's RAM"))
        XCTAssertTrue(problem(task(#"{"growing": 1}"#)).contains("must be {\"segmented\""))
        XCTAssertTrue(problem(task(#"{"segmented": {"initial": 1024, "max": 4096}}"#, #", "protection": ["paint", "sp-check"]"#))
            .contains("'sp-check' cannot be combined"))
        XCTAssertTrue(problem(#"{"name": "s", "segment_pool": 4096, "tasks": [{"name": "a", "entry": "t", "priority": 1, "stack": 1024}]}"#)
            .contains("no task has a segmented stack"))
    }

    func testTooManyTasks() {
        let tasks = (0..<32).map { #"{"name": "t\#($0)", "entry": "t", "priority": 1, "stack": 256}"# }
        XCTAssertEqual(problem(#"{"name": "x", "tasks": [\#(tasks.joined(separator: ","))]}"#),
                       "keel.json: 32 tasks; the kernel supports at most 31")
    }

    /// Safe by default: no "protection" key gives the board's strongest; [] gives none, and
    /// `keel layout` says so naming the task; "expect" is parsed and checked.
    func testDefaultProtectionIsTheBoardsStrongest() throws {
        let m0 = try BoardCatalog.board(named: "microbit")
        let json = #"{"name": "d", "tasks": [{"name": "a", "entry": "f", "priority": 1, "stack": 1024}, "#
            + #"{"name": "b", "entry": "g", "priority": 1, "stack": 1024, "protection": [], "expect": "overflow"}]}"#
        XCTAssertEqual(try parse(json, board: m33).tasks[0].protections, [.paint, .limitRegister, .mpuRegion])
        XCTAssertEqual(try parse(json, board: m3).tasks[0].protections, [.paint, .mpuRegion])
        let onM0 = try parse(json, board: m0)
        XCTAssertEqual(onM0.tasks[0].protections, [.paint, .prologueCheck, .redZone, .stackPointerCheck])
        XCTAssertTrue(onM0.tasks[0].protectionIsDefault)
        XCTAssertEqual(onM0.tasks[1].protections, [])
        XCTAssertEqual(onM0.tasks[1].expectedFault, .overflow)
        let layout = try LayoutPlanner.plan(onM0, on: m0)
        let warnings = ProtectionWarnings.warnings(layout, application: onM0, board: m0)
        XCTAssertTrue(warnings.contains { $0.hasPrefix("task 'b' has no overflow protection") }, "\(warnings)")
        // T6 refuses the call before its frame is written: not "software only" in the warning's sense.
        XCTAssertFalse(warnings.contains { $0.hasPrefix("task 'a' is protected by software only") }, "\(warnings)")
        XCTAssertTrue(LayoutReport.text(layout, application: onM0, board: m0).contains("paint, red-zone, sp-check, prologue-check (default)"))
        XCTAssertTrue(problem(#"{"name": "d", "tasks": [{"name": "a", "entry": "f", "priority": 1, "stack": 1024, "expect": "maybe"}]}"#)
            .contains("'expect' must be one of"))
    }

    /// `keel run`'s verdict: a fault the manifest does not declare fails the run; a declared one does not.
    func testUndeclaredFaultsFailTheRun() throws {
        let application = try parse(#"{"name": "d", "tasks": [{"name": "a", "entry": "f", "priority": 1, "stack": 1024, "expect": "overflow"}, "#
            + #"{"name": "b", "entry": "g", "priority": 1, "stack": 1024}]}"#)
        func record(_ task: String, _ kind: String) -> ConsoleRecord {
            .fault(FaultRecord(task: task, kind: kind, technique: "sp-check", pc: 0, sp: 0, limit: 0, cfsr: 0, hfsr: 0, mmfar: 0,
                               bfar: 0, action: "kill"))
        }
        let expected = RunResult(records: [record("a", "stack-overflow"), .end(code: 0)], exitCode: 0, qemuErrors: "")
        XCTAssertTrue(RunVerdict.evaluate(expected, application: application).unexpected.isEmpty)
        let victim = RunResult(records: [record("a", "stack-overflow"), record("b", "stack-overwritten")], exitCode: 0, qemuErrors: "")
        XCTAssertEqual(RunVerdict.evaluate(victim, application: application).unexpected.map(\.task), ["b"])
        let handler = RunResult(records: [record("handler", "stack-overflow")], exitCode: 0, qemuErrors: "")
        XCTAssertEqual(RunVerdict.evaluate(handler, application: application).explanation.first?.contains("handler_expect"), true)
        // A task that overflowed 36 times gets one line with the count, not 36.
        let repeated = RunResult(records: Array(repeating: record("b", "stack-overflow"), count: 36) + [record("b", "usage-fault")],
                                 exitCode: 0, qemuErrors: "")
        let lines = RunVerdict.evaluate(repeated, application: application).explanation
        XCTAssertEqual(lines.count, 2, "\(lines)")
        XCTAssertTrue(lines[0].hasPrefix("unexpected stack overflow of task 'b' (36 times)"), lines[0])
        XCTAssertFalse(lines[1].contains("times"), lines[1])
    }
}
