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

    /// The technique number used in the design documents (T1...T5), nil for painting.
    public var techniqueNumber: Int? {
        switch self {
        case .paint: nil
        case .limitRegister: 1
        case .mpuRegion: 2
        case .mpuGuard: 3
        case .redZone: 4
        case .stackPointerCheck: 5
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
    /// Larger is more urgent; 0...254 (255 and below-0 are reserved for the kernel's idle task).
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

    /// The guard a T3 task gets when its manifest names no size (seed 003: "128 to 256 bytes
    /// of red zone should be sufficient"); never less than one exception frame.
    public static let defaultGuardBytes = 128

    public init(name: String, entry: String, priority: Int, stackBytes: Int,
                protections: Set<Protection>, redZoneBytes: Int = 0, guardBytes: Int = 0,
                faultPolicy: FaultPolicy = .kill) {
        self.name = name
        self.entry = entry
        self.priority = priority
        self.stackBytes = stackBytes
        self.protections = protections
        self.redZoneBytes = protections.contains(.redZone) ? (redZoneBytes == 0 ? 16 : redZoneBytes) : 0
        self.guardBytes = protections.contains(.mpuGuard) ? (guardBytes == 0 ? Self.defaultGuardBytes : guardBytes) : 0
        self.faultPolicy = faultPolicy
    }

    /// The same task with other protections (the tests swap techniques on one application).
    public func with(protections: Set<Protection>, redZoneBytes: Int = 16, guardBytes: Int = 0) -> TaskSpec {
        TaskSpec(name: name, entry: entry, priority: priority, stackBytes: stackBytes, protections: protections,
                 redZoneBytes: redZoneBytes, guardBytes: guardBytes, faultPolicy: faultPolicy)
    }
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

public struct Application: Sendable {
    public var name: String
    /// The folder the manifest and sources are in.
    public var directory: URL
    public var sources: [URL]
    public var tickHertz: Int
    /// Bytes of the main stack, used by the kernel and every handler.
    public var handlerStackBytes: Int
    /// Bytes of the MPU guard below the handler stack (PMSAv7; PMSAv8 uses MSPLIM instead).
    /// A frame larger than the guard could step over it, so it is bigger than a task's default.
    public var handlerGuardBytes: Int = Application.defaultHandlerGuardBytes
    public var tasks: [TaskSpec]

    public static let defaultHandlerGuardBytes = 256

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
}
