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
    /// T4: painted red zone at the bottom of the stack, checked at every switch-out.
    case redZone = "red-zone"
    /// T5: the saved stack pointer checked against the stack's bottom at every switch-out.
    case stackPointerCheck = "sp-check"

    /// The technique number used in the design documents (T1...T5), nil for painting.
    public var techniqueNumber: Int? {
        switch self {
        case .paint: nil
        case .limitRegister: 1
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

    public init(name: String, entry: String, priority: Int, stackBytes: Int,
                protections: Set<Protection>, redZoneBytes: Int = 0) {
        self.name = name
        self.entry = entry
        self.priority = priority
        self.stackBytes = stackBytes
        self.protections = protections
        self.redZoneBytes = protections.contains(.redZone) ? (redZoneBytes == 0 ? 16 : redZoneBytes) : 0
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
    public var tasks: [TaskSpec]

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
