// The boards Keel knows, as data: Arm's MPS2/MPS3 FPGA images of the Cortex-M3, M4, M7, M33
// and M55, the BBC micro:bit (nRF51, M0) and the Netduino Plus 2 (a real STM32F405).
//
// Memory maps are the ones QEMU 7.2 models (hw/arm/mps2.c, mps2-tz.c, microbit.c,
// stm32f405_soc.c). The mps2-an505 and mps3-an547 run in the Secure state, so their code and
// RAM are the Secure aliases. Interrupt lines and priority bits are the real part's (the
// CMSIS device headers' __NVIC_PRIO_BITS): QEMU 7.2 gives every v7-M/v8-M core 8 priority
// bits, a real part fewer, and the kernel's priorities must mean the same on both.

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
            console: ConsolePort(kind: .cmsdk, base: 0x4000_4000, baudSetting: 217, transmitPin: 0,
                                 receivePin: 0, receiveLine: 0, transmitLine: 1),
            // TIMER0 (hw/arm/mps2.c): the APB clock, 25 MHz.
            timer: DeviceTimerPort(kind: .cmsdk, base: 0x4000_0000, line: 8, clockHertz: 25_000_000),
            // The CMSDK APB watchdog (hw/arm/mps2.c): WDOGCLK is the 25 MHz system clock, its interrupt NMI.
            watchdog: WatchdogPort(base: 0x4000_8000, clockHertz: 25_000_000),
            fpu: nil, interruptLines: 32, priorityBits: 3),
        Board(
            name: "mps2-an386", summary: "ARM MPS2 with AN386 (Cortex-M4F)",
            cpu: "cortex-m4", architecture: .armv7m,
            swiftTarget: "armv7em-none-none-eabi", clangTarget: "thumbv7em-none-eabi",
            libgccMultilib: "thumb/v7e-m/nofp",
            flash: MemoryRegion(origin: 0x0000_0000, length: 4 << 20),
            ram: MemoryRegion(origin: 0x2000_0000, length: 4 << 20),
            mpu: .pmsav7, mpuRegions: 8, hasStackLimitRegisters: false,
            qemuMachine: "mps2-an386", clockHertz: 25_000_000,
            // The AN385's map with a Cortex-M4 and its single-precision FPU (Application Note 386).
            console: ConsolePort(kind: .cmsdk, base: 0x4000_4000, baudSetting: 217, transmitPin: 0,
                                 receivePin: 0, receiveLine: 0, transmitLine: 1),
            timer: DeviceTimerPort(kind: .cmsdk, base: 0x4000_0000, line: 8, clockHertz: 25_000_000),
            // The CMSDK APB watchdog (hw/arm/mps2.c): WDOGCLK is the 25 MHz system clock, its interrupt NMI.
            watchdog: WatchdogPort(base: 0x4000_8000, clockHertz: 25_000_000),
            fpu: FloatingPointUnit(name: "FPv4-SP", clangFPU: "fpv4-sp-d16", doublePrecision: false,
                                   hardFloatMultilib: "thumb/v7e-m+fp/hard"),
            interruptLines: 32, priorityBits: 3),
        Board(
            name: "mps2-an500", summary: "ARM MPS2 with AN500 (Cortex-M7, double-precision FPU)",
            cpu: "cortex-m7", architecture: .armv7m,
            swiftTarget: "armv7em-none-none-eabi", clangTarget: "thumbv7em-none-eabi",
            libgccMultilib: "thumb/v7e-m/nofp",
            flash: MemoryRegion(origin: 0x0000_0000, length: 4 << 20),
            ram: MemoryRegion(origin: 0x2000_0000, length: 4 << 20),
            mpu: .pmsav7, mpuRegions: 8, hasStackLimitRegisters: false,
            qemuMachine: "mps2-an500", clockHertz: 25_000_000,
            // The AN385's map with a Cortex-M7 and its FPv5 double-precision FPU (Application Note 500).
            console: ConsolePort(kind: .cmsdk, base: 0x4000_4000, baudSetting: 217, transmitPin: 0,
                                 receivePin: 0, receiveLine: 0, transmitLine: 1),
            timer: DeviceTimerPort(kind: .cmsdk, base: 0x4000_0000, line: 8, clockHertz: 25_000_000),
            // The CMSDK APB watchdog (hw/arm/mps2.c): WDOGCLK is the 25 MHz system clock, its interrupt NMI.
            watchdog: WatchdogPort(base: 0x4000_8000, clockHertz: 25_000_000),
            fpu: FloatingPointUnit(name: "FPv5-D16", clangFPU: "fpv5-d16", doublePrecision: true,
                                   hardFloatMultilib: "thumb/v7e-m+dp/hard"),
            interruptLines: 32, priorityBits: 3),
        Board(
            name: "mps2-an505", summary: "ARM MPS2 with AN505 (Cortex-M33, Secure)",
            cpu: "cortex-m33", architecture: .armv8m,
            swiftTarget: "armv7em-none-none-eabi", clangTarget: "thumbv8m.main-none-eabi",
            libgccMultilib: "thumb/v8-m.main/nofp",
            flash: MemoryRegion(origin: 0x1000_0000, length: 4 << 20),
            ram: MemoryRegion(origin: 0x3800_0000, length: 2 << 20),
            mpu: .pmsav8, mpuRegions: 16, hasStackLimitRegisters: true,
            // The AN505's MAINCLK is 20 MHz (hw/arm/mps2-tz.c `sysclk_frq`; AN505's clock table):
            // SysTick, the UART and the timers all run from it.
            qemuMachine: "mps2-an505", clockHertz: 20_000_000,
            // UART0 of the AN505 through its Secure alias (the kernel runs Secure); 20 MHz / 174.
            console: ConsolePort(kind: .cmsdk, base: 0x5020_0000, baudSetting: 174, transmitPin: 0,
                                 receivePin: 0, receiveLine: 32, transmitLine: 33),
            // IoTKit's TIMER0 through its Secure alias, on MAINCLK (20 MHz).
            timer: DeviceTimerPort(kind: .cmsdk, base: 0x5000_0000, line: 3, clockHertz: 20_000_000),
            fpu: FloatingPointUnit(name: "FPv5-SP", clangFPU: "fpv5-sp-d16", doublePrecision: false,
                                   hardFloatMultilib: "thumb/v8-m.main+fp/hard"),
            // IoTKit's 32 lines and the AN505's 92 expansion lines.
            interruptLines: 124, priorityBits: 3),
        Board(
            name: "mps3-an547", summary: "ARM MPS3 with AN547 (Cortex-M55, Armv8.1-M, Secure)",
            cpu: "cortex-m55", architecture: .armv8m,
            swiftTarget: "armv7em-none-none-eabi", clangTarget: "thumbv8.1m.main-none-eabi",
            libgccMultilib: "thumb/v8-m.main/nofp",
            // Code in the 512 KiB ITCM and data in the 512 KiB DTCM, both through their Secure
            // aliases (the vector table is read at VTOR_S = 0, the ITCM's other alias).
            flash: MemoryRegion(origin: 0x1000_0000, length: 512 << 10),
            ram: MemoryRegion(origin: 0x3000_0000, length: 512 << 10),
            mpu: .pmsav8, mpuRegions: 16, hasStackLimitRegisters: true,
            qemuMachine: "mps3-an547", clockHertz: 32_000_000,
            // UART0 through its Secure alias; its APB clock is 25 MHz (SysTick's is 32 MHz).
            console: ConsolePort(kind: .cmsdk, base: 0x5930_3000, baudSetting: 217, transmitPin: 0,
                                 receivePin: 0, receiveLine: 33, transmitLine: 34),
            // The AN547 has no FPGA timers: the SSE-300's S32K timer, a CMSDK timer at 32 kHz.
            timer: DeviceTimerPort(kind: .cmsdk, base: 0x5802_F000, line: 2, clockHertz: 32_000),
            // The M55's FPU (single and double precision). MVE is there too, off in the build
            // (`cpuExtensions`): Keel saves its state (Q4-Q7 are s16-s31) but does not ask for it.
            fpu: FloatingPointUnit(name: "FPv5-D16 + MVE", clangFPU: "fp-armv8-fullfp16-d16", doublePrecision: true,
                                   hardFloatMultilib: "thumb/v8-m.main+dp/hard"),
            // The SSE-300's 32 lines and the AN547's 96 expansion lines.
            interruptLines: 128, cpuExtensions: "+nomve", priorityBits: 3),
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
            console: ConsolePort(kind: .nrf51, base: 0x4000_2000, baudSetting: 0x01D7_E000, transmitPin: 24,
                                 receivePin: 25, receiveLine: 2, transmitLine: 2),
            // TIMER0 (hw/arm/nrf51_soc.c) at 16 MHz, prescaler 0.
            timer: DeviceTimerPort(kind: .nrf51, base: 0x4000_8000, line: 8, clockHertz: 16_000_000),
            fpu: nil, interruptLines: 32, priorityBits: 2),
        Board(
            name: "netduinoplus2", summary: "Netduino Plus 2 (STM32F405, Cortex-M4F)",
            cpu: "cortex-m4", architecture: .armv7m,
            swiftTarget: "armv7em-none-none-eabi", clangTarget: "thumbv7em-none-eabi",
            libgccMultilib: "thumb/v7e-m/nofp",
            // A real MCU's map: 1 MiB flash at 0x08000000 (aliased at 0, where the core boots
            // from) and the 128 KiB main SRAM (QEMU 7.2 models 192 KiB there; the part has 112 +
            // 16 KiB contiguous, and 64 KiB CCM elsewhere).
            flash: MemoryRegion(origin: 0x0800_0000, length: 1 << 20),
            ram: MemoryRegion(origin: 0x2000_0000, length: 128 << 10),
            mpu: .pmsav7, mpuRegions: 8, hasStackLimitRegisters: false,
            // QEMU runs SysTick at 168 MHz (the part's full speed after its PLL is set up; Keel
            // leaves the clocks at reset, 16 MHz HSI, on a real part).
            qemuMachine: "netduinoplus2", clockHertz: 168_000_000,
            // SysTick's external clock is HCLK / 8 on the STM32F4 (RM0090, RCC), as in QEMU's model.
            sysTickReferenceHertz: 21_000_000,
            // USART1 (the board's console header); BRR 0x8B = 16 MHz HSI / (16 x 8.6875) = 115108
            // baud, the reset clock's nearest to 115200. QEMU ignores the rate.
            console: ConsolePort(kind: .stm32, base: 0x4001_1000, baudSetting: 0x8B, transmitPin: 9,
                                 receivePin: 10, receiveLine: 37, transmitLine: 37, transmitInterrupt: false),
            // TIM2; QEMU's model counts at 1 GHz whatever the clock tree (hw/arm/stm32f405_soc.c).
            timer: DeviceTimerPort(kind: .stm32, base: 0x4000_0000, line: 28, clockHertz: 1_000_000_000),
            fpu: FloatingPointUnit(name: "FPv4-SP", clangFPU: "fpv4-sp-d16", doublePrecision: false,
                                   hardFloatMultilib: "thumb/v7e-m+fp/hard"),
            interruptLines: 82, priorityBits: 4),
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
