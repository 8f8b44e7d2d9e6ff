// The 32-bit atomics ARMv6-M code calls (__atomic_*_4): it has no ldrex/strex.
//
// The Embedded Swift standard library uses atomics for reference counts and `_Volatile`
// lowers register access to monotonic atomic loads and stores. On a single core, an aligned
// word load or store is already atomic (ARMv6-M A3.5.3) and a read-modify-write is atomic
// when interrupts are masked around it, which is what these do.
//
// The Thumb-1 routes (KEEL_THUMB1: the split-stack route on the M0, and the bench's Thumb-1
// routes on every board) compile for a Linux triple, for which LLVM calls the GCC-style
// `__sync_*_4` helpers instead; they are here too. (The Thumb-2 split route's Linux triple
// has ldrex/strex and needs neither.)

#if KEEL_ARMV6M || KEEL_THUMB1

@_cdecl("__atomic_load_4")
func atomicLoad4(_ address: UnsafeMutablePointer<UInt32>, _ order: Int32) -> UInt32 {
    address.pointee
}

@_cdecl("__atomic_store_4")
func atomicStore4(_ address: UnsafeMutablePointer<UInt32>, _ value: UInt32, _ order: Int32) {
    address.pointee = value
}

@_cdecl("__atomic_exchange_4")
func atomicExchange4(_ address: UnsafeMutablePointer<UInt32>, _ value: UInt32, _ order: Int32) -> UInt32 {
    let interrupts = Interrupts.mask()
    let old = address.pointee
    address.pointee = value
    Interrupts.restore(interrupts)
    return old
}

@_cdecl("__atomic_compare_exchange_4")
func atomicCompareExchange4(_ address: UnsafeMutablePointer<UInt32>, _ expected: UnsafeMutablePointer<UInt32>,
                            _ desired: UInt32, _ success: Int32, _ failure: Int32) -> Bool {
    let interrupts = Interrupts.mask()
    defer { Interrupts.restore(interrupts) }
    let current = address.pointee
    if current == expected.pointee {
        address.pointee = desired
        return true
    }
    expected.pointee = current
    return false
}

@_cdecl("__atomic_fetch_add_4")
func atomicFetchAdd4(_ address: UnsafeMutablePointer<UInt32>, _ value: UInt32, _ order: Int32) -> UInt32 {
    let interrupts = Interrupts.mask()
    let old = address.pointee
    address.pointee = old &+ value
    Interrupts.restore(interrupts)
    return old
}

@_cdecl("__atomic_fetch_sub_4")
func atomicFetchSub4(_ address: UnsafeMutablePointer<UInt32>, _ value: UInt32, _ order: Int32) -> UInt32 {
    let interrupts = Interrupts.mask()
    let old = address.pointee
    address.pointee = old &- value
    Interrupts.restore(interrupts)
    return old
}

@_cdecl("__sync_val_compare_and_swap_4")
func syncCompareAndSwap4(_ address: UnsafeMutablePointer<UInt32>, _ expected: UInt32, _ desired: UInt32) -> UInt32 {
    let interrupts = Interrupts.mask()
    let current = address.pointee
    if current == expected { address.pointee = desired }
    Interrupts.restore(interrupts)
    return current
}

@_cdecl("__sync_lock_test_and_set_4")
func syncExchange4(_ address: UnsafeMutablePointer<UInt32>, _ value: UInt32) -> UInt32 {
    atomicExchange4(address, value, 0)
}

@_cdecl("__sync_fetch_and_add_4")
func syncFetchAdd4(_ address: UnsafeMutablePointer<UInt32>, _ value: UInt32) -> UInt32 {
    atomicFetchAdd4(address, value, 0)
}

@_cdecl("__sync_fetch_and_sub_4")
func syncFetchSub4(_ address: UnsafeMutablePointer<UInt32>, _ value: UInt32) -> UInt32 {
    atomicFetchSub4(address, value, 0)
}

/// A full barrier: one core, so ordering against interrupts is all there is; dmb for devices.
@_cdecl("__sync_synchronize")
func syncSynchronize() {
    dataSynchronizationBarrier(0xF)
}

#endif
