// Word access to raw RAM, and the C memory functions the Embedded Swift runtime links against.
//
// Written in Swift; `keel build` passes -disable-loop-idiom-all so LLVM does not turn these
// loops back into calls to themselves. Byte loops are enough here: the kernel copies little.

enum Memory {
    @inline(__always)
    static func loadWord(_ address: UInt32) -> UInt32 {
        // Sound: callers pass word-aligned addresses inside a stack the kernel owns.
        UnsafePointer<UInt32>(bitPattern: UInt(address)).unsafelyUnwrapped.pointee
    }

    @inline(__always)
    static func storeWord(_ address: UInt32, _ value: UInt32) {
        UnsafeMutablePointer<UInt32>(bitPattern: UInt(address)).unsafelyUnwrapped.pointee = value
    }

    /// Fills the word-aligned range [start, end) with `value`, four words a step while it can
    /// (the paint of every new slack runs on `__morestack`'s slow path: it is counted).
    static func fillWords(from start: UInt32, to end: UInt32, with value: UInt32) {
        var address = start
        while end &- address >= 16 && address < end {
            storeWord(address, value)
            storeWord(address &+ 4, value)
            storeWord(address &+ 8, value)
            storeWord(address &+ 12, value)
            address &+= 16
        }
        while address < end {
            storeWord(address, value)
            address &+= 4
        }
    }
}

@_cdecl("memset")
func memset(_ destination: UnsafeMutableRawPointer, _ value: Int32, _ count: Int) -> UnsafeMutableRawPointer {
    let bytes = destination.assumingMemoryBound(to: UInt8.self)
    var index = 0
    while index < count {
        bytes[index] = UInt8(truncatingIfNeeded: value)
        index &+= 1
    }
    return destination
}

@_cdecl("memcpy")
func memcpy(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, _ count: Int) -> UnsafeMutableRawPointer {
    let to = destination.assumingMemoryBound(to: UInt8.self)
    let from = source.assumingMemoryBound(to: UInt8.self)
    var index = 0
    while index < count {
        to[index] = from[index]
        index &+= 1
    }
    return destination
}

@_cdecl("memmove")
func memmove(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, _ count: Int) -> UnsafeMutableRawPointer {
    let to = destination.assumingMemoryBound(to: UInt8.self)
    let from = source.assumingMemoryBound(to: UInt8.self)
    if UInt(bitPattern: to) < UInt(bitPattern: from) {
        var index = 0
        while index < count { to[index] = from[index]; index &+= 1 }
    } else {
        var index = count
        while index > 0 { index &-= 1; to[index] = from[index] }
    }
    return destination
}

@_cdecl("memcmp")
func memcmp(_ left: UnsafeRawPointer, _ right: UnsafeRawPointer, _ count: Int) -> Int32 {
    let a = left.assumingMemoryBound(to: UInt8.self)
    let b = right.assumingMemoryBound(to: UInt8.self)
    var index = 0
    while index < count {
        if a[index] != b[index] { return Int32(a[index]) &- Int32(b[index]) }
        index &+= 1
    }
    return 0
}

// The ARM EABI names the compiler also calls (RTABI 4.3.4). Argument order differs from C for memset.
@_cdecl("__aeabi_memcpy") func aeabiMemcpy(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ n: Int) { _ = memcpy(d, s, n) }
@_cdecl("__aeabi_memcpy4") func aeabiMemcpy4(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ n: Int) { _ = memcpy(d, s, n) }
@_cdecl("__aeabi_memcpy8") func aeabiMemcpy8(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ n: Int) { _ = memcpy(d, s, n) }
@_cdecl("__aeabi_memmove") func aeabiMemmove(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ n: Int) { _ = memmove(d, s, n) }
@_cdecl("__aeabi_memmove4") func aeabiMemmove4(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ n: Int) { _ = memmove(d, s, n) }
@_cdecl("__aeabi_memmove8") func aeabiMemmove8(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ n: Int) { _ = memmove(d, s, n) }
@_cdecl("__aeabi_memset") func aeabiMemset(_ d: UnsafeMutableRawPointer, _ n: Int, _ v: Int32) { _ = memset(d, v, n) }
@_cdecl("__aeabi_memset4") func aeabiMemset4(_ d: UnsafeMutableRawPointer, _ n: Int, _ v: Int32) { _ = memset(d, v, n) }
@_cdecl("__aeabi_memset8") func aeabiMemset8(_ d: UnsafeMutableRawPointer, _ n: Int, _ v: Int32) { _ = memset(d, v, n) }
@_cdecl("__aeabi_memclr") func aeabiMemclr(_ d: UnsafeMutableRawPointer, _ n: Int) { _ = memset(d, 0, n) }
@_cdecl("__aeabi_memclr4") func aeabiMemclr4(_ d: UnsafeMutableRawPointer, _ n: Int) { _ = memset(d, 0, n) }
@_cdecl("__aeabi_memclr8") func aeabiMemclr8(_ d: UnsafeMutableRawPointer, _ n: Int) { _ = memset(d, 0, n) }
