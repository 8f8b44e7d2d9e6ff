// keel.json: the manifest that names an application's tasks, read strictly.
//
// JSON rather than TOML: Foundation reads it with no dependency, every tool can write it,
// and `keel` already speaks JSON for its own output. Unknown keys, wrong types and
// impossible values are errors that name the key; nothing is silently ignored.
//
//   {
//     "name": "demo", "tick_hz": 1000, "handler_stack": 2048,
//     "tasks": [
//       { "name": "sensor", "entry": "sensorTask", "priority": 2, "stack": 1024,
//         "protection": ["paint", "red-zone", "sp-check"], "red_zone": 32 },
//       { "name": "radio", "entry": "radioTask", "priority": 3, "stack": 1536,
//         "protection": ["paint", "mpu-guard"], "guard": 256,
//         "on_fault": { "restart": 3, "window_ms": 1000, "then": "reset" } }
//     ]
//   }
//
// "protection" may also be an object keyed by board name with a "default" entry, for a
// task that should use PSPLIM where the board has it and something else elsewhere.
// "tick_hz" is ticks a second, 10 to 20000 (1000 by default), or 0 for no tick at all.
// "log" is where `Log` records go: "uart" (the default) or "rtt" (an RTT channel in RAM that a
// probe or GDB stub reads, 1024 bytes), or {"to": "rtt", "bytes": N}.
// "tickless" (true by default): while every task waits, the idle task stops the tick until
// the nearest deadline and sleeps (Firmware/Kernel/TicklessIdle.swift); false keeps it ticking.
// "on_fault" is "kill" (the default), "reset", or a restart object as above.
// "stack" is bytes, or {"segmented": {"initial": 1024, "max": 8192}} for a stack that grows
// on demand from the application's "segment_pool" (bytes, 8192 by default); "segment" (in
// the segmented object) sets the size of each further segment, 1024 bytes by default.
// "segment_allocator" chooses who hands out the pool: "pool" (shared, the default),
// "reserved" (a reserve per task, its max less its first segment; the pool must hold them
// all), or the name of a type in the application conforming to Keel's `SegmentAllocator`.
// "segment_guard" (true by default) keeps an MPU region on the bottom of each segmented
// task's segment in use on the M3; false drops it (it costs a few instructions per split).
// "float" is "hard" (the FPU with the hard-float ABI: the default on a board with an FPU) or
// "soft" (floating point in libgcc's integer code: every board, e.g. to compare the two).
// "boards" (every board when absent) names the boards the application is made for: one that
// needs an MPU, or was sized and checked on some boards only, says so, and building,
// running or checking it for another board is refused here, before anything is built.

import Foundation
@_spi(Contract) import KeelContract

public enum Manifest {
    public static let fileName = "keel.json"
    static let applicationKeys: Set<String> = ["name", "boards", "tick_hz", "handler_stack", "handler_guard", "segment_pool", "segment_allocator", "segment_guard", "tasks",
                                              "stack_check", "analysis", "handler_expect", "float", "zero_latency_interrupts",
                                              "queues", "semaphores", "mutexes", "pools", "event_flags", "timers", "timer_task", "stream_buffers",
                                              "console", "tickless", "log"]
    static let analysisKeys: Set<String> = ["bounds", "recursion_depth", "indirect_calls"]
    static let taskKeys: Set<String> = ["name", "entry", "priority", "stack", "protection", "red_zone", "guard", "on_fault", "expect",
                                        "deadline_ms"]
    static let restartKeys: Set<String> = ["restart", "window_ms", "then"]
    public static let maximumTasks = 31
    /// A manifest is a few kilobytes; a larger file is a mistake, not something to parse.
    public static let maximumManifestBytes: UInt64 = 16 << 20
    /// The application's name names build folders and files; a task's name is printed in
    /// tables and fault lines and names a C symbol; an entry is a Swift function name.
    public static let maximumApplicationNameLength = 64
    public static let maximumTaskNameLength = 24
    public static let maximumEntryLength = 128
    /// `tick_hz`: 0 is no tick at all (the kernel never starts SysTick; the benches count a
    /// switch without one). Otherwise 10 Hz (a sleep of one tick is 100 ms) to 20 kHz (800
    /// cycles between ticks on the 16 MHz micro:bit; the segmented example preempts at 20 kHz).
    /// Both ends keep SysTick's 24-bit reload in range on every board.
    public static let tickHertzRange = 10...20_000

    /// Reads `directory/keel.json` and the Swift sources beside it, for `board`.
    /// `ignoringBoards`: only for a harness that rewrites the application for the board itself
    /// (the fault matrix shrinks every stack of `mpu-overflow` for the micro:bit); what runs
    /// then is that variant, not the application as its manifest describes it.
    public static func load(directory: URL, board: Board, ignoringBoards: Bool = false) throws(KeelError) -> Application {
        let (object, file) = try read(directory: directory)
        var application = try parse(object, path: file.path, directory: directory, board: board, ignoringBoards: ignoringBoards)
        application.sources = try sources(in: directory, manifestPath: file.path)
        return application
    }

    /// The boards the manifest in `directory` is made for: its `"boards"`, or every board.
    public static func boards(directory: URL) throws(KeelError) -> [String] {
        let (object, file) = try read(directory: directory)
        let root = object as? [String: Any] ?? [:]
        return try parseBoards(root["boards"]) { .manifestInvalid(path: file.path, problem: $0) } ?? BoardCatalog.names
    }

    /// The decoded JSON of `directory/keel.json`, and that file.
    static func read(directory: URL) throws(KeelError) -> (object: Any, file: URL) {
        try FileKind.requireDirectoryIfPresent(directory.path, purpose: "an application is a folder with a \(fileName)")
        let file = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw .manifestMissing(path: file.path)
        }
        // Looked at before it is opened: a FIFO would block, a directory would say "permission".
        try FileKind.requireReadable(file.path, limit: maximumManifestBytes, what: "a manifest")
        let data: Data
        do { data = try Data(contentsOf: file) } catch { throw .manifestUnreadable(path: file.path, reason: Self.describe(error)) }
        return (try decode(data, path: file.path), file)
    }

    /// The manifest's bytes as JSON values (what `parse` checks).
    static func decode(_ data: Data, path: String) throws(KeelError) -> Any {
        do { return try JSONSerialization.jsonObject(with: data) } catch {
            throw .manifestUnreadable(path: path, reason: Self.describe(error))
        }
    }

    /// Checks a decoded manifest against the schema and the board.
    public static func parse(_ object: Any, path: String, directory: URL, board: Board, ignoringBoards: Bool = false) throws(KeelError) -> Application {
        func invalid(_ problem: String) -> KeelError { .manifestInvalid(path: path, problem: problem) }
        guard let root = object as? [String: Any] else { throw invalid("the top level must be an object") }
        if let unknown = root.keys.filter({ !applicationKeys.contains($0) }).sorted().first {
            throw invalid("unknown key '\(KeelError.excerpt(unknown))' (known: \(applicationKeys.sorted().joined(separator: ", ")))")
        }
        guard let name = root["name"] as? String, name.utf8.count <= maximumApplicationNameLength,
              isIdentifier(name, allowDash: true) else {
            throw invalid("'name' must be 1-\(maximumApplicationNameLength) letters, digits, '-' or '_'")
        }
        let boards = try parseBoards(root["boards"], invalid)
        if let boards, !boards.contains(board.name), !ignoringBoards {
            throw invalid("'\(name)' is made for \(boards.joined(separator: ", ")) (its \"boards\"), not \(board.name)")
        }
        var tickHertz = 1000
        if let raw = root["tick_hz"] {
            guard let value = (raw as? NSNumber).flatMap({ exactInteger($0) }), value == 0 || tickHertzRange.contains(value) else {
                throw invalid("'tick_hz' must be 0 (no tick) or a whole number from \(tickHertzRange.lowerBound) to \(tickHertzRange.upperBound)")
            }
            tickHertz = value
        }
        // A number, or one per board: {"default": 1664, "microbit": 1408} (what the handlers need
        // differs by core, and by whether the console runs by interrupt there).
        let handlerStack = try integer(try resolvingPerBoard(root, "handler_stack", board: board, invalid), "handler_stack",
                                       default: 2048, in: 512...Int(board.ram.length), invalid)
        guard handlerStack % 8 == 0 else { throw invalid("'handler_stack' must be a multiple of 8 bytes") }
        guard let taskObjects = root["tasks"] as? [Any], !taskObjects.isEmpty else {
            throw invalid("'tasks' must be a non-empty array of task objects")
        }
        guard taskObjects.count <= maximumTasks else {
            throw invalid("\(taskObjects.count) tasks; the kernel supports at most \(maximumTasks)")
        }
        var tasks: [TaskSpec] = []
        for (index, taskObject) in taskObjects.enumerated() {
            let task = try parseTask(taskObject, index: index, board: board, invalid)
            if tasks.contains(where: { $0.name == task.name }) { throw invalid("two tasks are called '\(task.name)'") }
            tasks.append(task)
        }
        let handlerGuard = try integer(root, "handler_guard", default: Application.defaultHandlerGuardBytes, in: 32...65536, invalid)
        guard handlerGuard % 32 == 0 else { throw invalid("'handler_guard' must be a multiple of 32 bytes") }
        var application = Application(name: name, directory: directory, sources: [], tickHertz: tickHertz,
                                      handlerStackBytes: handlerStack, tasks: tasks)
        application.handlerGuardBytes = handlerGuard
        application.boards = boards
        application.ticklessIdle = try boolean(root, "tickless", default: true, invalid)
        if let mode = root["stack_check"] {
            guard let text = mode as? String, let parsed = StackCheckMode(rawValue: text) else {
                throw invalid("'stack_check' must be one of \(StackCheckMode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            application.stackCheck = parsed
        }
        if let expect = root["handler_expect"] {
            guard let text = expect as? String, let parsed = ExpectedFault(rawValue: text) else {
                throw invalid("'handler_expect' must be one of \(ExpectedFault.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            application.expectedHandlerFault = parsed
        }
        application.objects = try KernelObjects.parse(root, tasks: tasks, invalid)
        application.console = try parseConsole(root["console"], board: board, invalid)
        application.log = try parseLog(root["log"], invalid)
        if application.tasks.contains(where: { $0.deadlineMilliseconds != nil }) && application.tickHertz == 0 {
            throw invalid("'deadline_ms' needs the tick, and 'tick_hz' is 0")
        }
        if let timerTask = try timerTask(root, application: application, board: board, invalid) { application.tasks.append(timerTask) }
        application.zeroLatencyInterrupts = try parseZeroLatency(root["zero_latency_interrupts"], board: board, invalid)
        application.float = board.defaultFloat
        if let raw = root["float"] {
            guard let text = raw as? String, let float = FloatABI(rawValue: text) else {
                throw invalid("'float' must be \"hard\" (the FPU) or \"soft\" (libgcc)")
            }
            if float == .hard && board.fpu == nil {
                throw invalid("'float': \"hard\" needs an FPU, and \(board.name) (\(board.cpu)) has none; "
                    + "boards with one: \(BoardCatalog.all.filter { $0.fpu != nil }.map(\.name).joined(separator: ", "))")
            }
            application.float = float
        }
        if let analysis = root["analysis"] { application.analysisHints = try parseAnalysis(analysis, board: board, invalid) }
        if tasks.contains(where: { $0.segmented != nil }) {
            let pool = try integer(root, "segment_pool", default: Application.defaultSegmentPoolBytes,
                                   in: SegmentedStack.minimumInitialBytes...65536, invalid)
            guard pool % SegmentedStack.granuleBytes == 0 else {
                throw invalid("'segment_pool' must be a multiple of \(SegmentedStack.granuleBytes) bytes (the pool's granule)")
            }
            application.segmentPoolBytes = pool
            application.segmentAllocator = try parseSegmentAllocator(root["segment_allocator"], tasks: tasks, pool: pool, invalid)
            application.segmentGuard = try boolean(root, "segment_guard", default: true, invalid)
        } else if let key = ["segment_pool", "segment_allocator", "segment_guard"].first(where: { root[$0] != nil }) {
            throw invalid("'\(key)' is set but no task has a segmented stack")
        }
        return application
    }

    /// `"log": "uart" | "rtt" | {"to": "rtt", "bytes": N}` (N a multiple of 8 in range).
    static func parseLog(_ object: Any?, _ invalid: (String) -> KeelError) throws(KeelError) -> LogChannel {
        let usage = "'log' must be \"uart\", \"rtt\" or {\"to\": \"rtt\", \"bytes\": N}"
        guard let object else { return .uart }
        if let text = object as? String {
            switch text {
            case "uart": return .uart
            case "rtt": return .rtt(bytes: LogChannel.defaultRTTBytes)
            default: throw invalid(usage)
            }
        }
        guard let entry = object as? [String: Any] else { throw invalid(usage) }
        if let unknown = entry.keys.filter({ !["to", "bytes"].contains($0) }).sorted().first {
            throw invalid("'log' has an unknown key '\(KeelError.excerpt(unknown))' (known: bytes, to)")
        }
        guard let to = entry["to"] as? String, ["uart", "rtt"].contains(to) else { throw invalid(usage) }
        if to == "uart" {
            guard entry["bytes"] == nil else { throw invalid("'log': \"bytes\" is the RTT channel's size; the UART has none") }
            return .uart
        }
        let range = LogChannel.rttBytesRange
        let bytes = try integer(entry, "bytes", default: LogChannel.defaultRTTBytes, in: range, invalid)
        guard bytes % 8 == 0 else { throw invalid("'log': \"bytes\" must be a multiple of 8") }
        return .rtt(bytes: bytes)
    }

    /// `"console": {"output": 256, "input": 64}`: the ring 0 or a power of two, the input 0 or a
    /// multiple of 8, each in its range.
    static func parseConsole(_ object: Any?, board: Board, _ invalid: (String) -> KeelError) throws(KeelError) -> ConsoleBufferSpec {
        var console = ConsoleBufferSpec(board: board)
        guard let object else { return console }
        guard let entry = object as? [String: Any] else { throw invalid("'console' must be an object: {\"output\": bytes, \"input\": bytes}") }
        if let unknown = entry.keys.filter({ !["output", "input"].contains($0) }).sorted().first {
            throw invalid("'console' has an unknown key '\(KeelError.excerpt(unknown))' (known: input, output)")
        }
        func size(_ key: String, _ range: ClosedRange<Int>, powerOfTwo: Bool, default value: Int) throws(KeelError) -> Int {
            guard let raw = entry[key] else { return value }
            guard let bytes = (raw as? NSNumber).flatMap({ exactInteger($0) }),
                  bytes == 0 || (range.contains(bytes) && (powerOfTwo ? bytes & (bytes - 1) == 0 : bytes % 8 == 0)) else {
                throw invalid("'console.\(key)' must be 0 or \(powerOfTwo ? "a power of two" : "a multiple of 8") from \(range.lowerBound) to \(range.upperBound) bytes")
            }
            return bytes
        }
        console.outputBytes = try size("output", ConsoleBufferSpec.outputRange, powerOfTwo: true, default: console.outputBytes)
        console.inputBytes = try size("input", ConsoleBufferSpec.inputRange, powerOfTwo: false, default: 0)
        return console
    }

    /// `"zero_latency_interrupts": [{"line": 9, "priority": 32, "handler": "stepMotor"}]`: each a
    /// line of the board, a priority more urgent than the kernel's ceiling that the part has
    /// (a multiple of 256 >> its priority bits), and a Swift function; not on ARMv6-M, whose
    /// kernel masks every interrupt (no BASEPRI).
    static func parseZeroLatency(_ object: Any?, board: Board, _ invalid: (String) -> KeelError) throws(KeelError) -> [ZeroLatencyInterrupt] {
        guard let object else { return [] }
        guard let list = object as? [Any] else { throw invalid("'zero_latency_interrupts' must be an array of {\"line\", \"priority\", \"handler\"} objects") }
        if !list.isEmpty && board.architecture == .armv6m {
            throw invalid("'zero_latency_interrupts': \(board.name) (\(board.cpu), ARMv6-M) has no BASEPRI, so its kernel masks every interrupt "
                + "and none is above it; leave them out for this board (\"boards\") or attach them with Keel.attachInterrupt")
        }
        let ceiling = Int(KernelCeiling.basePriority)
        let step = 256 >> board.priorityBits
        var result: [ZeroLatencyInterrupt] = []
        for (index, item) in list.enumerated() {
            let label = "zero_latency_interrupts[\(index)]"
            guard let entry = item as? [String: Any] else { throw invalid("'\(label)' must be an object with \"line\", \"priority\" and \"handler\"") }
            if let unknown = entry.keys.filter({ !["line", "priority", "handler"].contains($0) }).sorted().first {
                throw invalid("'\(label)': unknown key '\(KeelError.excerpt(unknown))' (known: handler, line, priority)")
            }
            let line = try integer(entry, "line", default: -1, in: 0...(board.interruptLines - 1)) { _ in
                invalid("'\(label).line' must be a line of \(board.name): 0-\(board.interruptLines - 1)")
            }
            let priority = try integer(entry, "priority", default: -1, in: 0...(ceiling - 1)) { _ in
                invalid("'\(label).priority' must be more urgent than the kernel's ceiling \(ceiling) (0x40): 0-\(ceiling - 1)")
            }
            guard priority % step == 0 else {
                throw invalid("'\(label).priority' \(priority) is not a priority \(board.name) has: its NVIC keeps \(board.priorityBits) bits, "
                    + "so above the ceiling it has \(stride(from: 0, to: ceiling, by: step).map(String.init).joined(separator: ", "))")
            }
            guard let handler = entry["handler"] as? String, handler.utf8.count <= maximumEntryLength, isIdentifier(handler, allowDash: false) else {
                throw invalid("'\(label).handler' must name a Swift function (no arguments, no result)")
            }
            if result.contains(where: { $0.line == line }) { throw invalid("'\(label)': line \(line) is declared twice") }
            result.append(ZeroLatencyInterrupt(line: line, priority: priority, handler: handler))
        }
        return result
    }

    /// `"analysis": {"bounds": {"f": bytes}, "recursion_depth": {"f": n}, "indirect_calls": {"f": ["g", ...]}}`:
    /// what the image cannot tell the stack analysis. Functions are named as `keel stack` prints them.
    static func parseAnalysis(_ object: Any, board: Board, _ invalid: (String) -> KeelError) throws(KeelError) -> AnalysisHints {
        guard let analysis = object as? [String: Any] else { throw invalid("'analysis' must be an object") }
        if let unknown = analysis.keys.filter({ !analysisKeys.contains($0) }).sorted().first {
            throw invalid("'analysis': unknown key '\(KeelError.excerpt(unknown))' (known: \(analysisKeys.sorted().joined(separator: ", ")))")
        }
        func numbers(_ key: String, in range: ClosedRange<Int>) throws(KeelError) -> [String: UInt32] {
            guard let value = analysis[key] else { return [:] }
            guard let table = value as? [String: Any] else { throw invalid("'analysis.\(key)' must map function names to numbers") }
            var result: [String: UInt32] = [:]
            for (function, number) in table {
                guard let n = (number as? NSNumber).flatMap({ exactInteger($0) }), range.contains(n) else {
                    throw invalid("'analysis.\(key).\(KeelError.excerpt(function))' must be a whole number in \(range.lowerBound)...\(range.upperBound)")
                }
                result[function] = UInt32(n)
            }
            return result
        }
        var hints = AnalysisHints()
        hints.bounds = try numbers("bounds", in: 0...Int(board.ram.length))
        hints.recursionDepth = try numbers("recursion_depth", in: 1...1_000_000)
        if let value = analysis["indirect_calls"] {
            guard let table = value as? [String: Any] else { throw invalid("'analysis.indirect_calls' must map function names to arrays of names") }
            for (function, targets) in table {
                guard let names = targets as? [String] else {
                    throw invalid("'analysis.indirect_calls.\(KeelError.excerpt(function))' must be an array of function names")
                }
                hints.indirectTargets[function] = names
            }
        }
        return hints
    }

    static func parseTask(_ object: Any, index: Int, board: Board, _ invalid: (String) -> KeelError) throws(KeelError) -> TaskSpec {
        guard let task = object as? [String: Any] else { throw invalid("tasks[\(index)] must be an object") }
        let label = (task["name"] as? String).map { "task '\(KeelError.excerpt($0))'" } ?? "tasks[\(index)]"
        func problem(_ text: String) -> KeelError { invalid("\(label): \(text)") }
        if let unknown = task.keys.filter({ !taskKeys.contains($0) }).sorted().first {
            throw problem("unknown key '\(KeelError.excerpt(unknown))' (known: \(taskKeys.sorted().joined(separator: ", ")))")
        }
        guard let name = task["name"] as? String, name.utf8.count <= maximumTaskNameLength,
              isIdentifier(name, allowDash: true) else {
            throw problem("'name' is missing or not 1-\(maximumTaskNameLength) letters, digits, '-' or '_'")
        }
        guard name != "idle" && name != "handler" else {
            throw problem("'\(name)' is the kernel's own (its idle task or handler stack); choose another name")
        }
        guard let entry = task["entry"] as? String, entry.utf8.count <= maximumEntryLength,
              isIdentifier(entry, allowDash: false) else {
            throw problem("'entry' is missing or not a Swift function name of at most \(maximumEntryLength) characters")
        }
        guard task["priority"] != nil else { throw problem("'priority' is missing") }
        // 0 is the idle task's level, below every task's. Refused rather than shifted under
        // the hood: the kernel makes equal priorities peers, so a task at 0 would take turns
        // with idle (half the CPU while it spins) and, being no more urgent than idle, a wake
        // would not preempt idle until the next tick (never with "tick_hz": 0). Keeping the
        // manifest's number as the kernel's (no +1) keeps `keel top` and records in its terms.
        if let number = task["priority"] as? NSNumber, exactInteger(number) == Self.idlePriority {
            throw problem("'priority' 0 is the idle task's level: a task there would share turns with idle and not "
                + "preempt it when woken; use 1 to 254 (1 is the least urgent)")
        }
        let priority = try integer(task, "priority", default: 1, in: 1...254, problem)
        guard task["stack"] != nil else { throw problem("'stack' is missing (bytes, e.g. 1024)") }
        let (segmented, automaticInitial) = try parseSegmented(task["stack"], board: board, problem) ?? (nil, false)
        // "auto" (the stack, or a segmented stack's first segment): sized by the stack
        // analysis at build time; a placeholder until then.
        let automatic = task["stack"] as? String == "auto" || automaticInitial
        guard let stack = segmented?.initialBytes ?? (automatic ? TaskSpec.automaticPlaceholderBytes : nil)
                ?? (task["stack"] as? NSNumber).flatMap({ exactInteger($0) }) else {
            throw problem("'stack' must be a whole number of bytes, \"auto\", or {\"segmented\": {\"initial\": N, \"max\": M}}")
        }
        if stack > Int(board.ram.length) {
            throw problem("a stack of \(stack) bytes is larger than \(board.name)'s RAM (\(board.ram.length) bytes)")
        }
        guard stack >= 256, stack % 8 == 0 else { throw problem("'stack' must be at least 256 bytes and a multiple of 8") }
        // A segmented stack takes painting only; without a "protection" key it gets just that.
        let protections = task["protection"] == nil && segmented != nil
            ? [.paint] : try parseProtections(task["protection"], board: board, problem)
        var redZone = 0
        if task["red_zone"] != nil {
            // A per-board protection may use the red zone on some boards only.
            let perBoard = task["protection"] is [String: Any]
            guard protections.contains(.redZone) || perBoard else {
                throw problem("'red_zone' is set but 'protection' has no red-zone")
            }
            redZone = try integer(task, "red_zone", default: 16, in: 16...(stack / 2), problem)
            guard redZone % 16 == 0 else { throw problem("'red_zone' must be a multiple of 16 bytes (checked four words at a time)") }
        }
        var guardBytes = 0
        if task["guard"] != nil {
            let perBoard = task["protection"] is [String: Any]
            guard protections.contains(.mpuGuard) || perBoard else {
                throw problem("'guard' is set but 'protection' has no mpu-guard")
            }
            guardBytes = try integer(task, "guard", default: TaskSpec.defaultGuardBytes, in: 32...65536, problem)
            guard guardBytes % 32 == 0 else { throw problem("'guard' must be a multiple of 32 bytes (the MPU's granule)") }
        }
        if protections.contains(.prologueCheck) && segmented == nil && !automatic && stack <= SegmentedStack.slackBytes {
            throw problem("a stack of \(stack) bytes leaves no room above the \(SegmentedStack.slackBytes)-byte slack that 'prologue-check' "
                + "keeps below its limit; give it more, or \"stack\": \"auto\"")
        }
        let policy = try parseFaultPolicy(task["on_fault"], problem)
        if segmented != nil {
            // The prologue checks every frame against the segment's limit, and SP leaves the
            // first segment, so the checks that compare with one fixed bottom do not apply.
            if let other = protections.subtracting([.paint, .prologueCheck]).sorted().first {
                throw problem("a segmented stack is checked by the function prologue (and PSPLIM where the board has it); "
                    + "'\(other.rawValue)' cannot be combined with it (only 'paint' can, and 'prologue-check', which it has anyway)")
            }
        }
        var spec = TaskSpec(name: name, entry: entry, priority: priority, stackBytes: stack,
                            protections: protections, redZoneBytes: redZone, guardBytes: guardBytes, faultPolicy: policy,
                            segmented: segmented)
        spec.automaticStack = automatic
        spec.protectionIsDefault = task["protection"] == nil
        if let expect = task["expect"] {
            guard let text = expect as? String, let parsed = ExpectedFault(rawValue: text) else {
                throw problem("'expect' must be one of \(ExpectedFault.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")) "
                    + "(the faults a run of this application may show without failing)")
            }
            spec.expectedFault = parsed
        }
        if let raw = task["deadline_ms"] {
            guard let milliseconds = (raw as? NSNumber).flatMap({ exactInteger($0) }), (1...60_000).contains(milliseconds) else {
                throw problem("'deadline_ms' must be a whole number of milliseconds from 1 to 60000 (how often the task checks in)")
            }
            guard board.watchdog != nil else {
                let boards = BoardCatalog.all.filter { $0.watchdog != nil }.map(\.name).joined(separator: ", ")
                throw problem("'deadline_ms' needs a watchdog, and \(board.name) has none that Keel drives (\(boards) have)")
            }
            spec.deadlineMilliseconds = milliseconds
        }
        return spec
    }

    /// `{"segmented": {"initial": N, "max": M}}`, or nil when the stack is a plain number;
    /// `automaticInitial` when N is "auto".
    static func parseSegmented(_ value: Any?, board: Board, _ problem: (String) -> KeelError) throws(KeelError)
        -> (stack: SegmentedStack, automaticInitial: Bool)? {
        guard let object = value as? [String: Any] else { return nil }
        guard object.count == 1, let inner = object["segmented"] as? [String: Any] else {
            throw problem("'stack' as an object must be {\"segmented\": {\"initial\": N, \"max\": M}}")
        }
        if let unknown = inner.keys.filter({ !["initial", "max", "segment"].contains($0) }).sorted().first {
            throw problem("'stack.segmented' has unknown key '\(KeelError.excerpt(unknown))' (known: initial, max, segment)")
        }
        guard inner["initial"] != nil, inner["max"] != nil else {
            throw problem("'stack.segmented' needs 'initial' (first segment bytes, or \"auto\") and 'max' (most bytes in all segments)")
        }
        let ram = Int(board.ram.length)
        for key in ["initial", "max", "segment"] {
            if let bytes = (inner[key] as? NSNumber).flatMap({ exactInteger($0) }), bytes > ram {
                throw problem("'stack.segmented.\(key)' of \(bytes) bytes is larger than \(board.name)'s RAM (\(ram) bytes)")
            }
        }
        let minimum = SegmentedStack.minimumInitialBytes
        // "auto": the analysis sizes it at build time (Build/CheckedBuild.swift); the smallest until then.
        let automaticInitial = inner["initial"] as? String == "auto"
        let initial = automaticInitial ? minimum : try integer(inner, "initial", default: 1024, in: minimum...ram, problem)
        let maximum = try integer(inner, "max", default: 8192, in: initial...ram, problem)
        guard initial % 8 == 0 else { throw problem("'stack.segmented.initial' must be a multiple of 8 bytes") }
        let granule = SegmentedStack.granuleBytes
        let segment = try integer(inner, "segment", default: max(initial, SegmentedStack.defaultSegmentBytes),
                                  in: minimum...maximum, problem)
        guard segment % granule == 0 else {
            throw problem("'stack.segmented.segment' must be a multiple of \(granule) bytes (the pool's granule)")
        }
        return (SegmentedStack(initialBytes: initial, maximumBytes: maximum, segmentBytes: segment), automaticInitial)
    }

    static func parseFaultPolicy(_ value: Any?, _ problem: (String) -> KeelError) throws(KeelError) -> FaultPolicy {
        guard let value else { return .kill }
        if let name = value as? String {
            switch name {
            case "kill": return .kill
            case "reset": return .reset
            case "restart": return .restart(times: 3, windowMilliseconds: 0, then: .kill)
            default: throw problem("'on_fault' must be \"kill\", \"reset\" or {\"restart\": N, \"window_ms\": T, \"then\": \"kill\"|\"reset\"}")
            }
        }
        guard let object = value as? [String: Any] else {
            throw problem("'on_fault' must be a string or a restart object")
        }
        if let unknown = object.keys.filter({ !restartKeys.contains($0) }).sorted().first {
            throw problem("'on_fault' has unknown key '\(KeelError.excerpt(unknown))' (known: \(restartKeys.sorted().joined(separator: ", ")))")
        }
        guard object["restart"] != nil else { throw problem("'on_fault' object needs 'restart' (how many times)") }
        let times = try integer(object, "restart", default: 3, in: 1...255, problem)
        let window = try integer(object, "window_ms", default: 0, in: 0...86_400_000, problem)
        let thenName = object["then"].map { $0 as? String } ?? "kill"
        guard let thenName, let then = FaultPolicy.Final(rawValue: thenName) else {
            throw problem("'on_fault.then' must be \"kill\" or \"reset\"")
        }
        return .restart(times: times, windowMilliseconds: window, then: then)
    }

    static func parseSegmentAllocator(_ value: Any?, tasks: [TaskSpec], pool: Int,
                                      _ invalid: (String) -> KeelError) throws(KeelError) -> SegmentAllocatorChoice {
        guard let value else { return .pool }
        guard let name = value as? String, !name.isEmpty else {
            throw invalid("'segment_allocator' must be \"pool\", \"reserved\" or the name of a type conforming to SegmentAllocator")
        }
        switch name {
        case "pool": return .pool
        case "reserved":
            // Every reserve at once, each rounded up to the pool's granule.
            let granule = SegmentedStack.granuleBytes
            let reserves = tasks.compactMap(\.segmented).map { ($0.maximumBytes - $0.initialBytes + granule - 1) / granule * granule }
            let needed = reserves.reduce(0, +)
            guard needed <= pool else {
                throw invalid("'segment_allocator': \"reserved\" gives every segmented task its max less its first segment, "
                    + "\(needed) bytes in all, more than the \(pool)-byte 'segment_pool'; raise 'segment_pool' to \(needed) or lower a max")
            }
            return .reserved
        default:
            guard name.first!.isLetter || name.first! == "_", name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else {
                throw invalid("'segment_allocator' '\(KeelError.excerpt(name))' is not a Swift type name")
            }
            return .custom(name)
        }
    }

    static func parseProtections(_ value: Any?, board: Board, _ problem: (String) -> KeelError) throws(KeelError) -> Set<Protection> {
        var list: Any? = value
        if let perBoard = value as? [String: Any] {
            for key in perBoard.keys where key != "default" && !BoardCatalog.names.contains(key) {
                throw problem("'protection' names unknown board '\(key)'")
            }
            list = perBoard[board.name] ?? perBoard["default"]
        }
        // No key: the strongest protection the board has (README: "Safe by default").
        guard let list else { return board.defaultProtections }
        guard let names = list as? [String] else {
            throw problem("'protection' must be a list such as [\"paint\", \"sp-check\"]")
        }
        var protections: Set<Protection> = []
        for name in names {
            guard let protection = Protection(rawValue: name) else {
                let known = Protection.allCases.map(\.rawValue).joined(separator: ", ")
                throw problem("unknown protection '\(name)' (known: \(known))")
            }
            if protection == .limitRegister && !board.hasStackLimitRegisters {
                throw problem("limit-register needs PSPLIM, which \(board.name) (\(board.cpu)) does not have")
            }
            if (protection == .mpuRegion || protection == .mpuGuard) && board.mpu == .none {
                throw problem("\(protection.rawValue) needs an MPU, which \(board.name) (\(board.cpu)) does not have")
            }
            protections.insert(protection)
        }
        return protections
    }

    /// `"boards"`: a non-empty array of known board names, each once; nil when absent (every board).
    static func parseBoards(_ raw: Any?, _ invalid: (String) -> KeelError) throws(KeelError) -> [String]? {
        guard let raw else { return nil }
        let known = BoardCatalog.names
        guard let names = raw as? [String], !names.isEmpty else {
            throw invalid("'boards' must be a non-empty array of board names (known: \(known.joined(separator: ", ")))")
        }
        if let unknown = names.first(where: { !known.contains($0) }) {
            throw invalid("'boards' names an unknown board '\(KeelError.excerpt(unknown))' (known: \(known.joined(separator: ", ")))")
        }
        guard Set(names).count == names.count else { throw invalid("'boards' names a board twice") }
        return names
    }

    /// The idle task's priority, below every task's (TaskTableGenerator gives it to idle).
    public static let idlePriority = 0

    /// The task that runs the timers' callbacks (SoftwareTimers.swift), when there are timers:
    /// "timer_task" may set its priority (default: above every task), stack (default "auto",
    /// sized by the analysis from the callbacks it calls) and protection, as for a task.
    public static let timerTaskName = "timers"
    public static let timerTaskEntry = "keelTimerTask"

    static func timerTask(_ root: [String: Any], application: Application, board: Board,
                          _ invalid: (String) -> KeelError) throws(KeelError) -> TaskSpec? {
        guard !application.objects.timers.isEmpty else {
            if root["timer_task"] != nil { throw invalid("'timer_task' is set but there are no 'timers'") }
            return nil
        }
        guard application.tickHertz > 0 else { throw invalid("'timers' need the tick, and 'tick_hz' is 0") }
        guard !application.tasks.contains(where: { $0.name == timerTaskName }) else {
            throw invalid("a task is called '\(timerTaskName)', the name of the timer task that 'timers' need; rename it")
        }
        guard application.tasks.count < maximumTasks else {
            throw invalid("\(application.tasks.count) tasks and the timer task; the kernel supports at most \(maximumTasks)")
        }
        var spec: [String: Any] = [:]
        if let given = root["timer_task"] {
            guard let object = given as? [String: Any] else { throw invalid("'timer_task' must be an object such as {\"priority\": 8}") }
            let known: Set<String> = ["priority", "stack", "protection", "red_zone", "guard"]
            if let unknown = object.keys.filter({ !known.contains($0) }).sorted().first {
                throw invalid("'timer_task': unknown key '\(KeelError.excerpt(unknown))' (known: \(known.sorted().joined(separator: ", ")))")
            }
            spec = object
        }
        spec["name"] = timerTaskName
        spec["entry"] = timerTaskEntry
        if spec["priority"] == nil { spec["priority"] = min(254, (application.tasks.map(\.priority).max() ?? 0) + 1) }
        if spec["stack"] == nil { spec["stack"] = "auto" }
        return try parseTask(spec, index: application.tasks.count, board: board, invalid)
    }

    /// `object` with `key`'s value picked for `board` when it is given per board
    /// ({"default": x, "<board>": y}); unchanged otherwise.
    static func resolvingPerBoard(_ object: [String: Any], _ key: String, board: Board,
                                  _ invalid: (String) -> KeelError) throws(KeelError) -> [String: Any] {
        guard let perBoard = object[key] as? [String: Any] else { return object }
        if let unknown = perBoard.keys.sorted().first(where: { $0 != "default" && (try? BoardCatalog.board(named: $0)) == nil }) {
            throw invalid("'\(key)' has a value for '\(KeelError.excerpt(unknown))', which is no board (`keel boards` lists them)")
        }
        guard let value = perBoard[board.name] ?? perBoard["default"] else {
            throw invalid("'\(key)' has no value for \(board.name) and no \"default\"")
        }
        var resolved = object
        resolved[key] = value
        return resolved
    }

    static func integer(_ object: [String: Any], _ key: String, default value: Int, in range: ClosedRange<Int>,
                        _ invalid: (String) -> KeelError) throws(KeelError) -> Int {
        guard let raw = object[key] else { return value }
        guard let number = raw as? NSNumber, let integer = exactInteger(number), range.contains(integer) else {
            throw invalid("'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return integer
    }

    /// `true` or `false` (JSON numbers, which arrive as NSNumber too, are not booleans).
    static func boolean(_ object: [String: Any], _ key: String, default value: Bool,
                        _ invalid: (String) -> KeelError) throws(KeelError) -> Bool {
        guard let raw = object[key] else { return value }
        guard let flag = raw as? Bool, String(cString: (raw as! NSNumber).objCType) == "c" else {
            throw invalid("'\(key)' must be true or false")
        }
        return flag
    }

    /// JSON numbers arrive as NSNumber; booleans and fractions are not integers.
    static func exactInteger(_ number: NSNumber) -> Int? {
        if String(cString: number.objCType) == "c" { return nil }  // true/false
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 1e15 else { return nil }
        return Int(double)
    }

    static func isIdentifier(_ text: String, allowDash: Bool) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, CharacterSet.letters.contains(first) || first == "_" else {
            return false
        }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || (allowDash && $0 == "-"))
        }
    }

    static func sources(in directory: URL, manifestPath: String) throws(KeelError) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let swift = names.filter { $0.hasSuffix(".swift") }.sorted().map { directory.appendingPathComponent($0) }
        guard !swift.isEmpty else {
            throw .manifestInvalid(path: manifestPath, problem: "no .swift sources beside the manifest")
        }
        return swift
    }

    static func describe(_ error: Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}
