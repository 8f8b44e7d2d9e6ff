// How Keel writes an address or a register word, everywhere: "0x" and eight lowercase hex
// digits (the kernel's console records use the same form). One function, so a table, a
// linker script, a generated source and a fault report never disagree on a format.

import Foundation

public func hex(_ value: UInt32) -> String { String(format: "0x%08x", value) }

/// For addresses held as UInt64 (one past the end of a 4 GiB space prints as 0x100000000).
public func hex(_ value: UInt64) -> String { String(format: "0x%08llx", value) }
