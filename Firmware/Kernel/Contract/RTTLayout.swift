// SEGGER RTT's control block as Keel lays it out: one definition for the kernel that writes
// the log's channel (RTTLog.swift, which checks it against its `RTTChannel` at start) and the
// host that reads it (Sources/KeelKit/Run/RTTReader.swift). Shared with the host (KeelContract).
//
// SEGGER's layout: the 16-byte ID, the up- and down-buffer counts, then each up-buffer's six
// words: name, buffer, size, write offset, read offset, flags.

@_spi(Contract) public enum RTTLayout {
    /// What the block starts with once it is set up (written last by the kernel).
    public static let id: StaticString = "SEGGER RTT"
    /// The up-buffer count's offset.
    public static let upBufferCount: UInt32 = 16
    /// The first up-buffer's words.
    public static let buffer: UInt32 = 28
    public static let size: UInt32 = 32
    public static let writeOffset: UInt32 = 36
    public static let readOffset: UInt32 = 40
    public static let flags: UInt32 = 44
    /// The control block with its one up-buffer.
    public static let controlBlockBytes = 48
    /// What `keel build` generates at `_SEGGER_RTT`: the control block, then the kernel's
    /// three words for its writers (reserved, writers, dropped), in 8-byte words.
    public static let storageBytes = 64

    /// The flags' low two bits: what a writer does when the channel is full.
    public static let modeMask: UInt32 = 3
    /// Drop the record (SEGGER's NO_BLOCK_SKIP): the kernel's default.
    public static let skipMode: UInt32 = 0
    /// Wait for the host (SEGGER's BLOCK_IF_FIFO_FULL): what `keel run` sets.
    public static let blockMode: UInt32 = 2
}
