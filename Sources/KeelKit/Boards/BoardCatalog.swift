// The boards Keel knows: the three QEMU machines, as data.
//
// Memory maps are the ones QEMU 7.2 models (hw/arm/mps2.c, mps2-tz.c, microbit.c). The
// mps2-an505 runs in the Secure state, so flash and RAM are the Secure aliases.

public enum BoardCatalog {
    public static let all: [Board] = [
        Board(
            name: "mps2-an385", summary: "ARM MPS2 with AN385 (Cortex-M3)",
            cpu: "cortex-m3", architecture: .armv7m,
            swiftTarget: "armv7em-none-none-eabi", clangTarget: "thumbv7m-none-eabi",
            libgccMultilib: "thumb/v7-m/nofp",
            flash: MemoryRegion(origin: 0x0000_0000, length: 4 << 20),
            ram: MemoryRegion(origin: 0x2000_0000, length: 4 << 20),
            mpu: .pmsav7, mpuRegions: 8, hasStackLimitRegisters: false,
            qemuMachine: "mps2-an385", clockHertz: 25_000_000,
            // UART0 of the AN385 (Application Note 385, table 3-3); 25 MHz / 217 = 115200 baud.
            console: ConsolePort(kind: .cmsdk, base: 0x4000_4000, baudSetting: 217, transmitPin: 0)),
        Board(
            name: "mps2-an505", summary: "ARM MPS2 with AN505 (Cortex-M33, Secure)",
            cpu: "cortex-m33", architecture: .armv8m,
            swiftTarget: "armv7em-none-none-eabi", clangTarget: "thumbv8m.main-none-eabi",
            libgccMultilib: "thumb/v8-m.main/nofp",
            flash: MemoryRegion(origin: 0x1000_0000, length: 4 << 20),
            ram: MemoryRegion(origin: 0x3800_0000, length: 2 << 20),
            mpu: .pmsav8, mpuRegions: 16, hasStackLimitRegisters: true,
            qemuMachine: "mps2-an505", clockHertz: 25_000_000,
            // UART0 of the AN505 through its Secure alias (the kernel runs Secure); 25 MHz / 217.
            console: ConsolePort(kind: .cmsdk, base: 0x5020_0000, baudSetting: 217, transmitPin: 0)),
        Board(
            name: "microbit", summary: "BBC micro:bit (nRF51, Cortex-M0)",
            cpu: "cortex-m0", architecture: .armv6m,
            swiftTarget: "armv6m-none-none-eabi", clangTarget: "thumbv6m-none-eabi",
            libgccMultilib: "thumb/v6-m/nofp",
            flash: MemoryRegion(origin: 0x0000_0000, length: 256 << 10),
            ram: MemoryRegion(origin: 0x2000_0000, length: 16 << 10),
            mpu: .none, mpuRegions: 0, hasStackLimitRegisters: false,
            qemuMachine: "microbit", clockHertz: 16_000_000,
            // UART0 of the nRF51822; TXD on P0.24, the micro:bit's USB serial; 115200 baud.
            console: ConsolePort(kind: .nrf51, base: 0x4000_2000, baudSetting: 0x01D7_E000, transmitPin: 24)),
    ]

    public static var names: [String] { all.map(\.name) }

    /// The board called `name`, or an error listing the ones that exist.
    public static func board(named name: String) throws(KeelError) -> Board {
        guard let board = all.first(where: { $0.name == name }) else {
            throw .unknownBoard(name, known: names)
        }
        return board
    }
}
