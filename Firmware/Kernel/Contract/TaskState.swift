// A task's state, as the byte in its control block (`keel top` reads it from a running target).
// Shared with the host (KeelContract).

@_spi(Contract) public enum TaskState: UInt8, CaseIterable, Sendable {
    case ready
    /// Sleeping (`Keel.sleep`), or waiting on a kernel object with a timeout (then also in
    /// the object's waiters): in `sleeping` either way.
    case sleeping
    /// Waiting on a kernel object with no timeout: in `blocked` and in the object's waiters.
    case blocked
    case exited
    /// Stopped by the kernel after a detected fault; never runs again.
    case killed
    /// Suspended (`TaskHandle.suspend`): in no mask but `live`, until resumed.
    case suspended

    /// The word `keel top` shows for a task in this state that is not running or waiting.
    public var reportName: StaticString {
        switch self {
        case .ready: "ready"
        case .sleeping: "sleeping"
        case .blocked: "blocked"
        case .exited: "exited"
        case .killed: "killed"
        case .suspended: "suspended"
        }
    }
}
