// How long a blocking call may wait, and how it says that the wait ran out.
//
// The naming convention of the whole API: a call that can block takes a `timeout:` and may
// be called from a task only; every other call never blocks and may be called from a task
// or an interrupt handler. A blocking call made in a handler is a finding of `keel check`
// and, if it runs anyway, a fault (`blocking-in-handler`) that resets the system.

/// How long a blocking call may wait. Blocks: no. From: anywhere. Stack: leaf.
public struct Timeout: Sendable {
    /// Ticks to wait; `UInt32.max` is forever.
    let ticks: UInt32

    /// Waits as long as it takes.
    public static let forever = Timeout(ticks: .max)
    /// Does not wait: the call fails at once with `TimedOut` when it cannot proceed.
    public static let noWait = Timeout(ticks: 0)

    /// At least `ticks` ticks of the kernel's tick (fewer than 2^32 - 1).
    public static func ticks(_ ticks: UInt32) -> Timeout { Timeout(ticks: min(ticks, .max - 1)) }

    /// At least `milliseconds`, rounded up to whole ticks.
    public static func milliseconds(_ milliseconds: UInt32) -> Timeout {
        Timeout(ticks: min(Time.ticks(forMilliseconds: milliseconds), .max - 1))
    }
}

/// A blocking call's timeout passed before it could proceed. Thrown, never returned: a
/// caller cannot mistake it for a value.
public struct TimedOut: Error, Sendable {}
