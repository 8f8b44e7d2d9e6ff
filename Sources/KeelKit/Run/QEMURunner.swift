// Boots a firmware image under qemu-system-arm and streams its console as records.
//
// Always with `-icount shift=0,sleep=off`: QEMU then executes one instruction per virtual
// nanosecond and skips idle time, so a run (interleaving, tick arrival, instruction counts)
// repeats exactly. Console and exit code come through semihosting; the console is bound
// to a stdio chardev (without it QEMU 7.2 writes semihosting output to stderr). `Log` records
// are decoded against the image here (ConsoleDecoder), so every reader of a run sees their text.
//
// A firmware that never ends is stopped by the timeout; before it is, its task table is read
// through QEMU's gdb stub (TaskTable), so the run still says where every task was and how much
// stack each used. The stub listens on a private Unix socket (or on `gdbListenPort`); nothing
// connects to it before the timeout, so a run that ends by itself is not touched by it.

import Foundation

public struct RunOptions: Sendable {
    public var timeoutSeconds: Double = 30
    /// Waits for a debugger on this TCP port before the first instruction.
    public var gdbPort: Int? = nil
    /// A gdb stub on this TCP port that does not wait: the firmware runs at once, and
    /// `keel top --gdb :PORT` (or gdb) can attach at any time.
    public var gdbListenPort: Int? = nil
    /// At the timeout, reads the task table through the gdb stub before QEMU is stopped.
    /// Off unless asked for: the stub costs QEMU about a third more wall time on every run
    /// (`keel run` and `keel demo` ask; the tests' and benches' runs do not need it).
    public var readsTasksAtTimeout = false
    /// Extra QEMU arguments (the instruction-counter plugin).
    public var extraArguments: [String] = []
    /// What the board's UART receives (`ConsoleInput` in the image).
    public var input: ConsoleInputSource = .none
    /// False: QEMU starts with empty memory (no `-kernel`) and the image comes through the gdb
    /// stub on `gdbPort` (`keel flash`, as onto a board); the timeout still applies.
    public var loadsImage = true

    public init(timeoutSeconds: Double = 30, gdbPort: Int? = nil, gdbListenPort: Int? = nil, readsTasksAtTimeout: Bool = false,
                extraArguments: [String] = [], loadsImage: Bool = true) {
        self.timeoutSeconds = timeoutSeconds
        self.gdbPort = gdbPort
        self.gdbListenPort = gdbListenPort
        self.readsTasksAtTimeout = readsTasksAtTimeout
        self.extraArguments = extraArguments
        self.loadsImage = loadsImage
    }
}

/// What a run types into the board's console UART. Sent once the image has booted (its first
/// console line): the STM32's USART model drops bytes that arrive before its receiver is on,
/// where the CMSDK and nRF51 models hold them back; after boot every board holds them until
/// the kernel reads, so none is lost to timing.
public enum ConsoleInputSource: Sendable {
    var isNone: Bool { if case .none = self { true } else { false } }

    /// Nothing (QEMU reads no input).
    case none
    /// These bytes, then end of input.
    case bytes(Data)
    /// Whatever `keel run`'s own standard input gives, until it ends (a terminal, a pipe).
    case standardInput
}

public struct RunResult: Sendable {
    public var records: [ConsoleRecord]
    /// The firmware's exit code; nil when QEMU was stopped by the timeout.
    public var exitCode: Int32?
    public var timedOut: Bool { exitCode == nil }
    public var qemuErrors: String
    /// The task table read through the gdb stub when the timeout stopped the run.
    public var tasksAtTimeout: TaskTable? = nil
    /// Why the task table could not be read at the timeout (nil when it was, or was not tried).
    public var tasksAtTimeoutProblem: String? = nil

    public init(records: [ConsoleRecord], exitCode: Int32?, qemuErrors: String = "") {
        self.records = records
        self.exitCode = exitCode
        self.qemuErrors = qemuErrors
    }

    public var faults: [FaultRecord] { records.compactMap { if case .fault(let f) = $0 { f } else { nil } } }
    /// Faults reported by a boot as the reason for the reset before it.
    public var previousBoots: [FaultRecord] { records.compactMap { if case .previousBoot(let f) = $0 { f } else { nil } } }
    /// How many times the firmware booted in this run (resets included).
    public var boots: Int { records.filter { if case .boot = $0 { true } else { false } }.count }
    /// The tasks' stack rows (the handler stack's is `handlerStack`).
    public var stacks: [StackRecord] { records.compactMap { if case .stack(let s) = $0, s.task != "handler" { s } else { nil } } }
    /// The handler stack's row: what the kernel and every interrupt handler used at most.
    public var handlerStack: StackRecord? { records.lazy.compactMap { if case .stack(let s) = $0, s.task == "handler" { s } else { nil } }.first }
    /// Tasks an overflow reached only below their live stacks (not stopped).
    public var spared: [SparedRecord] { records.compactMap { if case .spared(let s) = $0 { s } else { nil } } }
    /// What the console lost (nil: nothing).
    public var consoleLoss: ConsoleLossRecord? { records.lazy.compactMap { if case .consoleLoss(let l) = $0 { l } else { nil } }.first }
    public var segments: [SegmentRecord] { records.compactMap { if case .segments(let s) = $0 { s } else { nil } } }
    /// Locks the kernel refused because they would have closed a wait-for cycle.
    public var deadlocks: [DeadlockRecord] { records.compactMap { if case .deadlock(let d) = $0 { d } else { nil } } }
    /// The plain console lines, without records.
    public var output: [String] { records.compactMap { if case .output(let line) = $0 { line } else { nil } } }
}

public struct QEMURunner: Sendable {
    public var qemu: URL

    public static func locate() throws(KeelError) -> QEMURunner {
        guard let qemu = Subprocess.find("qemu-system-arm") else {
            throw .toolMissing(tool: "qemu-system-arm", hint: Toolchain.setupHint)
        }
        return QEMURunner(qemu: qemu)
    }

    /// QEMU's arguments; `gdbSocket` adds a gdb stub on that Unix socket (when no port is asked
    /// for); `halted`: the core waits there for the RTT reader before its first instruction.
    public func arguments(for image: FirmwareImage, options: RunOptions, gdbSocket: String? = nil, halted: Bool = false) -> [String] {
        // The console is the board's first UART (`-serial` on stdio); semihosting ends the run.
        var arguments = ["-M", image.board.qemuMachine, "-display", "none", "-monitor", "none",
                         "-chardev", "stdio,id=console,mux=on", "-serial", "chardev:console",
                         "-semihosting-config", "enable=on,target=native,chardev=console",
                         "-icount", "shift=0,sleep=off"] + (options.loadsImage ? ["-kernel", image.elf.path] : [])
        // QEMU has one gdb stub: waiting, listening on a port, or on the private socket.
        if let port = options.gdbPort {
            arguments += ["-S", "-gdb", "tcp::\(port)"]
        } else if let port = options.gdbListenPort {
            arguments += ["-gdb", "tcp::\(port)"]
        } else if let gdbSocket {
            arguments += (halted ? ["-S"] : []) + ["-chardev", "socket,path=\(gdbSocket),server=on,wait=off,id=keelgdb", "-gdb", "chardev:keelgdb"]
        }
        return arguments + options.extraArguments
    }

    /// Where the timeout reads the task table: the listening port, or a new private socket
    /// (its folder is removed by `cleanUp`). Nil when the run waits for gdb or reads nothing.
    static func timeoutStub(_ options: RunOptions) -> (endpoint: GDBEndpoint, folder: URL?)? {
        guard options.readsTasksAtTimeout, options.gdbPort == nil else { return nil }
        if let port = options.gdbListenPort, let port = UInt16(exactly: port) {
            return (.tcp(host: "localhost", port: port), nil)
        }
        return privateSocket()
    }

    /// A gdb stub's socket in a new private folder (removed by the caller).
    static func privateSocket() -> (endpoint: GDBEndpoint, folder: URL?)? {
        // A Unix socket path is at most 107 bytes: TMPDIR when it is short, /tmp otherwise.
        var base = NSTemporaryDirectory()
        if base.utf8.count > 60 { base = "/tmp/" }
        var template = Array((URL(fileURLWithPath: base).appendingPathComponent("keel-run-XXXXXX").path).utf8CString)
        guard let made = mkdtemp(&template) else { return nil }
        let folder = URL(fileURLWithPath: String(cString: made))
        return (.unixSocket(path: folder.appendingPathComponent("gdb.sock").path), folder)
    }

    /// The task table of the halted-at-timeout image, or why it could not be read.
    static func readTasks(_ image: FirmwareImage, at endpoint: GDBEndpoint) -> Result<TaskTable, KeelError> {
        do throws(KeelError) {
            let tasks = try TaskTableImage(contentsOf: image.elf, taskCount: image.application.tasks.count + 1,
                                           objects: image.application.objects)
            let target = try GDBRemote(connectingTo: endpoint, timeout: 3)
            defer { target.close() }
            return .success(try TaskTable.snapshot(tasks, through: target))
        } catch {
            return .failure(error)
        }
    }

    /// Writes `source` into QEMU's standard input on a thread of its own (a terminal may never
    /// end), closing it when the source ends. A write after QEMU has gone fails quietly.
    static func forward(_ source: ConsoleInputSource, to pipe: FileHandle) {
        signal(SIGPIPE, SIG_IGN)  // QEMU may exit with input still unread: an error, not a signal
        DispatchQueue.global().async {
            switch source {
            case .none: break
            case .bytes(let data): try? pipe.write(contentsOf: data)
            case .standardInput:
                while true {
                    let chunk = FileHandle.standardInput.availableData
                    if chunk.isEmpty { break }
                    do { try pipe.write(contentsOf: chunk) } catch { break }
                }
            }
            try? pipe.close()
        }
    }

    /// Ends QEMU: SIGTERM, then SIGKILL when it is still there two seconds later. A QEMU whose
    /// guest idles with `-icount sleep=off` was seen to ignore SIGTERM for good (once on the
    /// mps2-an505), and a run that cannot be stopped would hang its caller and CI with it.
    static func stop(_ process: Process) {
        process.terminate()
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) { [process] in
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// Runs the image; `onRecord` sees each console record as it arrives (with PCs symbolised).
    public func run(_ image: FirmwareImage, options: RunOptions = RunOptions(),
                    symbolizer: Symbolizer? = nil,
                    onRecord: (ConsoleRecord) -> Void = { _ in }) throws(KeelError) -> RunResult {
        // An image that logs over RTT is read through the private stub (unless a debugger or
        // `keel top` is to use the stub: then they read it); the task table at a timeout is not.
        let rtt = image.application.log.rttBytes != nil && options.gdbPort == nil && options.gdbListenPort == nil
            ? try RTTReader(elf: image.elf) : nil
        let stub = rtt != nil ? Self.privateSocket() : Self.timeoutStub(options)
        defer { if let folder = stub?.folder { try? FileManager.default.removeItem(at: folder) } }
        var socketPath: String? = nil
        if case .unixSocket(let path)? = stub?.endpoint { socketPath = path }
        let process = Process()
        process.executableURL = qemu
        process.arguments = arguments(for: image, options: options, gdbSocket: socketPath, halted: rtt != nil)
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let input = options.input.isNone ? nil : Pipe()
        process.standardInput = input ?? FileHandle.nullDevice
        do { try process.run() } catch {
            throw .toolMissing(tool: qemu.path, hint: "it could not be started: \(error.localizedDescription)")
        }
        let watchdog = Watchdog()
        // A run that waits for a person's debugger has no timeout; one that waits for a loader has.
        if options.gdbPort == nil || !options.loadsImage {
            let endpoint = rtt == nil ? stub?.endpoint : nil
            DispatchQueue.global().asyncAfter(deadline: .now() + options.timeoutSeconds) { [process] in
                guard process.isRunning else { return }
                watchdog.fire()
                if let endpoint { watchdog.tasks = Self.readTasks(image, at: endpoint) }
                Self.stop(process)
            }
        }
        let errorCollector = Collector()
        DispatchQueue.global().async { errorCollector.set(errors.fileHandleForReading.readDataToEndOfFile()) }

        var records: [ConsoleRecord] = []
        var decoder = ConsoleDecoder(elf: image.elf, symbolizer: symbolizer)
        var inputStarted = false
        func emit(_ decoded: [ConsoleRecord]) {
            if let input, !inputStarted, !decoded.isEmpty {
                inputStarted = true
                Self.forward(options.input, to: input.fileHandleForWriting)
            }
            records += decoded
            decoded.forEach(onRecord)
        }
        let reader = output.fileHandleForReading
        var rttProblem: KeelError? = nil
        do throws(KeelError) {
            if let rtt, let endpoint = stub?.endpoint {
                rttProblem = try Self.readMerged(uart: reader, rtt: RTTSession(reader: rtt, endpoint: endpoint),
                                                 uartDecoder: &decoder, rttDecoder: ConsoleDecoder(elf: image.elf, symbolizer: symbolizer),
                                                 emit: emit)
            } else {
                while true {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    emit(try decoder.feed(chunk))
                }
            }
            emit(try decoder.finish())
        } catch {
            // Another build booted than the image named (it was rebuilt under the run).
            Self.stop(process)
            process.waitUntilExit()
            throw error
        }
        process.waitUntilExit()
        errorCollector.wait()
        let exitCode: Int32? = watchdog.fired ? nil : process.terminationStatus
        var qemuErrors = errorCollector.text
        if let rttProblem, exitCode == 0 || exitCode == nil {
            qemuErrors += (qemuErrors.isEmpty ? "" : "\n") + "RTT log not read: \(rttProblem)"
        }
        var result = RunResult(records: records, exitCode: exitCode, qemuErrors: qemuErrors)
        switch watchdog.tasks {
        case .success(let table)?: result.tasksAtTimeout = table
        case .failure(let error)?: result.tasksAtTimeoutProblem = error.description
        case nil: break
        }
        return result
    }
}

extension QEMURunner {
    /// The UART and the RTT channel together, each on a thread of its own, their records handed
    /// to `emit` on this one as they come (each source decoded on its own: a record line never
    /// spans the two). Returns when both have ended (QEMU exited); the RTT session's problem,
    /// when it could not attach.
    static func readMerged(uart: FileHandle, rtt session: RTTSession, uartDecoder: inout ConsoleDecoder, rttDecoder: ConsoleDecoder,
                           emit: ([ConsoleRecord]) -> Void) throws(KeelError) -> KeelError? {
        let events = RunEvents()
        DispatchQueue.global().async {
            while true {
                let chunk = uart.availableData
                if chunk.isEmpty { break }
                events.push(.uart(chunk))
            }
            events.push(.uartEnded)
        }
        DispatchQueue.global().async {
            let problem = session.run { bytes in events.push(.rtt(Data(bytes))) }
            events.push(.rttEnded(problem))
        }
        var rttDecoder = rttDecoder
        var uartOpen = true, rttOpen = true
        var problem: KeelError? = nil
        while uartOpen || rttOpen {
            switch events.pop() {
            case .uart(let chunk): emit(try uartDecoder.feed(chunk))
            case .rtt(let chunk): emit(try rttDecoder.feed(chunk))
            case .uartEnded: uartOpen = false
            case .rttEnded(let error): rttOpen = false; problem = error
            }
        }
        emit(try rttDecoder.finish())
        return problem
    }
}

/// What the UART's and the RTT channel's readers hand the run, in arrival order.
private final class RunEvents: @unchecked Sendable {
    enum Event { case uart(Data), rtt(Data), uartEnded, rttEnded(KeelError?) }
    private let lock = NSLock()
    private let available = DispatchSemaphore(value: 0)
    private var queue: [Event] = []
    func push(_ event: Event) { lock.withLock { queue.append(event) }; available.signal() }
    func pop() -> Event { available.wait(); return lock.withLock { queue.removeFirst() } }
}

/// Set once by the timeout (with the task table read then); read after QEMU has exited.
private final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    private var table: Result<TaskTable, KeelError>? = nil
    func fire() { lock.withLock { value = true } }
    var fired: Bool { lock.withLock { value } }
    var tasks: Result<TaskTable, KeelError>? {
        get { lock.withLock { table } }
        set { lock.withLock { table = newValue } }
    }
}

/// QEMU's stderr, read on another thread so a full pipe never blocks it.
private final class Collector: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()
    func set(_ data: Data) { self.data = data; done.signal() }
    func wait() { done.wait() }
    var text: String { String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
}
