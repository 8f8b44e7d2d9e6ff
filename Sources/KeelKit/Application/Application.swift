// An application: Embedded Swift sources plus the tasks its manifest (keel.json) declares.
//
// Tasks, stacks, priorities and protections are build-time data: `keel build` turns them
// into a static task table, so the kernel allocates nothing for tasks at run time.

import Foundation

/// A stack protection a task can ask for in its manifest.
public enum Protection: String, Sendable, Codable, CaseIterable, Comparable {
    /// Stack painting and a high-water mark (not a detector by itself).
    case paint
    /// T1: PSPLIM loaded at every switch-in (boards with stack-limit registers).
    case limitRegister = "limit-register"
    /// T2: an MPU region around the running task's stack; every other task stack is unwritable.
    case mpuRegion = "mpu-region"
    /// T3: a no-access MPU region (the guard) directly below the running task's stack.
    case mpuGuard = "mpu-guard"
    /// T4: painted red zone at the bottom of the stack, checked at every switch-out.
    case redZone = "red-zone"
    /// T5: the saved stack pointer checked against the stack's bottom at every switch-out.
    case stackPointerCheck = "sp-check"
    /// T6: every task function (but those proven to fit in the slack) starts with the
    /// split-stack prologue, which compares SP with a limit `SegmentedStack.slackBytes` above
    /// the stack's bottom and refuses the call before its frame is built. Needs no hardware.
    case prologueCheck = "prologue-check"

    /// The technique number used in the design documents (T1...T5), nil for painting.
    public var techniqueNumber: Int? {
        switch self {
        case .paint: nil
        case .limitRegister: 1
        case .mpuRegion: 2
        case .mpuGuard: 3
        case .redZone: 4
        case .stackPointerCheck: 5
        case .prologueCheck: 6
        }
    }

    public static func < (a: Protection, b: Protection) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public struct TaskSpec: Sendable, Equatable {
    public var name: String
    /// The Swift function (no arguments, no result) the task starts in.
    public var entry: String
    /// Larger is more urgent; 1...254 (0 is the kernel's idle task's, `Manifest.idlePriority`).
    public var priority: Int
    /// Stack bytes, including the red zone when there is one.
    public var stackBytes: Int
    public var protections: Set<Protection>
    /// Bytes of the red zone (T4); 0 when the task has none.
    public var redZoneBytes: Int
    /// Bytes of the MPU guard below the stack (T3), before the planner rounds it to the MPU's
    /// rules and to at least one exception frame; 0 when the task has none.
    public var guardBytes: Int
    public var faultPolicy: FaultPolicy
    /// Set when the stack is segmented: `stackBytes` is then the first segment, and the task
    /// takes more segments from the application's segment pool as it goes deeper.
    public var segmented: SegmentedStack?
    /// The manifest said `"stack": "auto"` (or, for a segmented stack, `"initial": "auto"`):
    /// the build sizes the stack (the first segment) from the analysis.
    public var automaticStack = false
    /// The manifest named no protection: the task has the board's default.
    public var protectionIsDefault = false
    /// The fault a run may show for this task without `keel run` failing (nil: none).
    public var expectedFault: ExpectedFault? = nil
    /// `"deadline_ms"`: the task checks in (`Keel.checkIn()`) at least this often, or the
    /// watchdog resets the board with a record naming it. Nil: the watchdog does not watch it.
    public var deadlineMilliseconds: Int? = nil
    /// The stack an automatic task is laid out with for the first (analysis) build.
    public static let automaticPlaceholderBytes = 2048
    /// The stack an automatic task has in the build that measures it: the smallest legal one,
    /// since only the code's frames matter there and the layout must fit on a 16 KiB part.
    public static let sizingPlaceholderBytes = 256

    /// The guard a T3 task gets when its manifest names no size (seed 003: "128 to 256 bytes
    /// of red zone should be sufficient"); never less than one exception frame.
    public static let defaultGuardBytes = 128

    public init(name: String, entry: String, priority: Int, stackBytes: Int,
                protections: Set<Protection>, redZoneBytes: Int = 0, guardBytes: Int = 0,
                faultPolicy: FaultPolicy = .kill, segmented: SegmentedStack? = nil) {
        self.name = name
        self.entry = entry
        self.priority = priority
        self.stackBytes = stackBytes
        self.protections = protections
        self.redZoneBytes = protections.contains(.redZone) ? (redZoneBytes == 0 ? 16 : redZoneBytes) : 0
        self.guardBytes = protections.contains(.mpuGuard) ? (guardBytes == 0 ? Self.defaultGuardBytes : guardBytes) : 0
        self.faultPolicy = faultPolicy
        self.segmented = segmented
        if let segmented { self.stackBytes = segmented.initialBytes }
    }

    /// The same task with other protections (the tests swap techniques on one application).
    public func with(protections: Set<Protection>, redZoneBytes: Int = 16, guardBytes: Int = 0) -> TaskSpec {
        var task = TaskSpec(name: name, entry: entry, priority: priority, stackBytes: stackBytes, protections: protections,
                            redZoneBytes: redZoneBytes, guardBytes: guardBytes, faultPolicy: faultPolicy, segmented: segmented)
        task.automaticStack = automaticStack
        task.expectedFault = expectedFault
        return task
    }

    /// The same task on a fixed stack of `bytes` (the benches compare the two strategies).
    public func withFixedStack(_ bytes: Int) -> TaskSpec {
        var task = self
        task.segmented = nil
        task.stackBytes = bytes
        return task
    }
}

/// `"segment_allocator"`: the kernel's two, or a type of the application's own.
public enum SegmentAllocatorChoice: Sendable, Equatable, Codable {
    /// One pool every segmented task shares (`SegmentPool`).
    case pool
    /// A reserve per task, its `max` less its first segment (`ReservedSegments`).
    case reserved
    /// A type of the application that conforms to `SegmentAllocator`.
    case custom(String)

    /// The Swift type the generated code makes.
    public var typeName: String {
        switch self {
        case .pool: "SegmentPool"
        case .reserved: "ReservedSegments"
        case .custom(let name): name
        }
    }
}

/// A stack that grows on demand (issue 4): a first segment placed by the layout planner, more
/// segments from the shared pool when a function's prologue finds too little room.
public struct SegmentedStack: Sendable, Equatable, Codable {
    /// Bytes of the first segment, which the task always holds.
    public var initialBytes: Int
    /// Most bytes the task may hold in all its segments together; one more is an exhaustion.
    public var maximumBytes: Int
    /// Bytes of each further segment (more when one frame needs more). Every segment loses
    /// `slackBytes` below its limit, so larger segments waste less of themselves.
    public var segmentBytes: Int

    public init(initialBytes: Int, maximumBytes: Int, segmentBytes: Int? = nil) {
        self.initialBytes = initialBytes
        self.maximumBytes = maximumBytes
        self.segmentBytes = segmentBytes ?? max(initialBytes, SegmentedStack.defaultSegmentBytes)
    }

    public static let defaultSegmentBytes = 1024

    /// Bytes kept free at the bottom of every segment, below the limit the prologue compares
    /// against. The prologue compares SP itself for frames under 256 bytes, so up to 256 bytes
    /// of a checked frame land below the limit; code without a prologue (leaf functions, the
    /// kernel's calls, `__morestack`'s own pushes) and an exception frame add to that. The
    /// kernel paints this zone and reports the deepest use, so the figure is checked in QEMU.
    public static let slackBytes = 384
    /// Bytes at the bottom of every segment that the MPU guard following the segment in use
    /// takes on the M3 (`Application.usesSegmentGuard`), below the slack, never painted: a
    /// 32-byte landing pad for the fault's exception frame, then the 32-byte region.
    public static let guardBytes: UInt32 = 64
    public static let guardLandingBytes: UInt32 = 32
    /// The pool's allocation unit (a segment is a whole number of granules, 8-byte aligned).
    public static let granuleBytes = 64
    /// The smallest first segment: the slack plus 256 bytes above the limit.
    public static let minimumInitialBytes = slackBytes + 256
}

/// What the kernel does with a task whose stack overflowed (or that faulted otherwise).
public enum FaultPolicy: Sendable, Equatable, Codable {
    /// The task stops for good, its stack is repainted, the others run on.
    case kill
    /// The whole system resets; a fault record survives in RAM and the next boot reports it.
    case reset
    /// The task starts again from its entry on a fresh stack, at most `times` times within
    /// `windowMilliseconds` (0: ever); one more fault in the window applies `then`.
    case restart(times: Int, windowMilliseconds: Int, then: Final)

    public enum Final: String, Sendable, Equatable, Codable { case kill, reset }

    public var summary: String {
        switch self {
        case .kill: "kill"
        case .reset: "reset"
        case .restart(let times, let window, let then):
            "restart \(times)x" + (window > 0 ? " in \(window) ms" : "") + ", then \(then.rawValue)"
        }
    }
}

/// An interrupt more urgent than the kernel's ceiling (ARMv7-M/v8-M Mainline), declared in the
/// manifest: its vector calls `handler` directly, the kernel never masks it, and it may not
/// call the kernel (`keel check` reports a call that reaches the kernel's critical sections).
public struct ZeroLatencyInterrupt: Sendable, Equatable {
    public var line: Int
    public var priority: Int
    /// The Swift function the vector calls (no arguments, no result).
    public var handler: String
    /// The C name its thunk has in the image, which the vector table holds.
    public var symbol: String { "keel_zero_latency_\(line)" }

    public init(line: Int, priority: Int, handler: String) {
        self.line = line; self.priority = priority; self.handler = handler
    }
}

public struct Application: Sendable {
    public var name: String
    /// The folder the manifest and sources are in.
    public var directory: URL
    public var sources: [URL]
    public var tickHertz: Int
    /// `"tickless"`: while every task waits, the idle task stops the tick until the nearest
    /// deadline and sleeps (Firmware/Kernel/TicklessIdle.swift). On by default; off to compare.
    public var ticklessIdle = true
    /// Bytes of the main stack, used by the kernel and every handler.
    public var handlerStackBytes: Int
    /// Bytes of the MPU guard below the handler stack (PMSAv7; PMSAv8 uses MSPLIM instead).
    /// A frame larger than the guard could step over it, so it is bigger than a task's default.
    public var handlerGuardBytes: Int = Application.defaultHandlerGuardBytes
    public var tasks: [TaskSpec]
    /// Bytes of the segment pool every segmented task takes from; 0 when no task is segmented.
    public var segmentPoolBytes: Int = 0
    /// Which allocator hands out the segment region (Firmware/Kernel/Segments/SegmentAllocator.swift).
    public var segmentAllocator: SegmentAllocatorChoice = .pool
    /// `"segment_guard"`: on a board with a PMSAv7 MPU (the M3), an MPU region follows each
    /// segmented task's segment in use (Firmware/Kernel/Segments/SegmentGuard.swift). On by
    /// default; off only to price it (`keel bench`) or to free the task's switch regions.
    public var segmentGuard = true
    /// What the manifest tells the stack analysis that the image cannot (bounds, recursion
    /// depths, targets of jumps through a register).
    public var analysisHints = AnalysisHints()
    /// What `keel build` does when the stack check finds a problem.
    public var stackCheck: StackCheckMode = .error
    /// A fault of the handler stack (the kernel, an interrupt handler) the application causes on purpose.
    public var expectedHandlerFault: ExpectedFault? = nil
    /// The boards the manifest names (`"boards"`); nil: made for every board.
    public var boards: [String]? = nil
    /// The queues, semaphores and mutexes the manifest declares.
    public var objects = KernelObjects()
    /// `"zero_latency_interrupts"`: handlers above the kernel's ceiling, by line.
    public var zeroLatencyInterrupts: [ZeroLatencyInterrupt] = []
    /// `"console"`: the transmit ring and the input buffer (ConsoleRing.swift, ConsoleInput.swift).
    public var console = ConsoleBufferSpec()
    /// `"log"`: where `Log` records go: the UART (the default) or an RTT channel (RTTLog.swift).
    public var log = LogChannel.uart
    /// `"float"`: how the image computes with floating point on the board it is built for:
    /// `hard` (the FPU, the default on a board with one) or `soft` (libgcc, every board).
    public var float: FloatABI = .soft
    /// Where its builds go: the application's own `.build/keel` unless a tool says otherwise
    /// (the bench builds Keel's examples into the cache, never into the source tree).
    public var buildFolder: URL {
        get { customBuildFolder ?? directory.appendingPathComponent(".build/keel") }
        set { customBuildFolder = newValue }
    }
    var customBuildFolder: URL? = nil

    public static let defaultHandlerGuardBytes = 256
    public static let defaultSegmentPoolBytes = 8192

    public init(name: String, directory: URL, sources: [URL], tickHertz: Int, handlerStackBytes: Int, tasks: [TaskSpec]) {
        self.name = name
        self.directory = directory
        self.sources = sources
        self.tickHertz = tickHertz
        self.handlerStackBytes = handlerStackBytes
        self.tasks = tasks
    }

    /// All protections any task uses; each selects a detector compiled into the image.
    public var protectionsInUse: Set<Protection> { tasks.reduce(into: []) { $0.formUnion($1.protections) } }

    /// True when some task's stack is segmented: the image then takes the split-stack route.
    public var usesSegmentedStacks: Bool { tasks.contains { $0.segmented != nil } }
    /// The image needs the split-stack prologue: a task is segmented or asks for T6.
    public var usesSplitStackCode: Bool { tasks.contains { $0.segmented != nil || $0.protections.contains(.prologueCheck) } }
    /// Segmented tasks get the MPU guard that follows their segment in use: the board's MPU
    /// is PMSAv7 (the M33 has PSPLIM at the segment's bottom instead) and the manifest did
    /// not turn it off.
    public func usesSegmentGuard(on board: Board) -> Bool { usesSegmentedStacks && segmentGuard && board.mpu == .pmsav7 }
}

/// `"expect"` on a task (and `"handler_expect"` for the handler stack): a fault the
/// application causes on purpose (a demo, a fault-injection test), which then does not make
/// `keel run` exit non-zero.
public enum ExpectedFault: String, Sendable, Codable, CaseIterable {
    /// The task's own stack overflow (or a segmented stack refused more).
    case overflow
    /// Any fault of the task, including its stack being overwritten by another's overflow.
    case fault

    /// Whether this expectation covers a fault record of the task.
    public func covers(_ fault: FaultRecord) -> Bool {
        switch self {
        case .fault: true
        case .overflow: fault.isStackOverflow || fault.kind == "stack-exhausted"
        }
    }
}

/// `"stack_check"` in the manifest: whether a failed stack check stops `keel build`.
public enum StackCheckMode: String, Sendable, Codable, CaseIterable {
    /// The build fails (the default).
    case error
    /// The build prints the findings and goes on (for examples that overflow on purpose).
    case warn
    /// No check.
    case off
}

/// `"console": {"output": 256, "input": 0}`: bytes of the console's transmit ring (a power of
/// two; 0: every line is sent polled, interrupts masked, as before the ring) and of its input
/// buffer (0: the image reads no console input and the receiver stays off).
/// Where `Log` records go (keel.json's `"log"`): the console's UART, or an RTT channel of
/// `bytes` in RAM that a probe or GDB stub reads (`keel run --log rtt`, Firmware/Kernel/RTTLog.swift).
public enum LogChannel: Sendable, Equatable, CustomStringConvertible {
    case uart
    case rtt(bytes: Int)

    /// 1 KiB: about thirty records of a few fields between two reads of the host.
    public static let defaultRTTBytes = 1024
    public static let rttBytesRange = 64...65536

    public var rttBytes: Int? { if case .rtt(let bytes) = self { bytes } else { nil } }
    public var description: String { rttBytes.map { "rtt (\($0) bytes)" } ?? "uart" }
}

public struct ConsoleBufferSpec: Sendable, Equatable {
    public var outputBytes = ConsoleBufferSpec.defaultOutputBytes
    public var inputBytes = 0
    /// 256 bytes: two and a half full lines. None on a part with at most 32 KiB of RAM, such
    /// as the micro:bit's 16, where every image fits its RAM to the byte: there the console
    /// stays polled unless keel.json asks for a ring ("console": {"output": 128}).
    public static let defaultOutputBytes = 256
    public static func defaultOutputBytes(on board: Board) -> Int { board.ram.length <= 32 << 10 ? 0 : defaultOutputBytes }
    /// A ring holds at least one whole line (95 bytes) and a bit: 128.
    public static let outputRange = 128...16384
    public static let inputRange = 8...16384
    public init() {}
    public init(board: Board) { outputBytes = Self.defaultOutputBytes(on: board) }
    /// The NVIC lines the console's interrupt holds on `board`: none when every line is sent
    /// polled and nothing is read (the STM32's USART under QEMU raises no transmit interrupt,
    /// so there only input takes its line).
    public func interruptLines(on board: Board) -> Set<Int> {
        let transmits = outputBytes > 0 && board.console.transmitInterrupt
        guard transmits || inputBytes > 0 else { return [] }
        return [board.console.receiveLine, board.console.transmitLine]
    }
    /// RAM the two take (the input buffer's 16-byte header included).
    public var bytes: Int { outputBytes + (inputBytes == 0 ? 0 : StreamBufferSpec(name: "", capacity: inputBytes, trigger: 1).bytes) }
}
