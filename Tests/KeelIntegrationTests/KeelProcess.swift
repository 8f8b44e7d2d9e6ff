// Running `keel` (or an installed copy) from the tests: one helper for every command-line test,
// with a watchdog so that a command that hangs ends the test instead of the suite.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import XCTest

/// What a command printed and how it ended.
struct Outcome {
    var status: Int32
    var output: String
    var errors: String
    /// The watchdog had to stop it.
    var hung = false
}

/// The `keel` built beside the tests (tests run from the build products folder).
var builtKeel: URL {
    let directory = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL.deletingLastPathComponent()
        ?? Bundle.main.bundleURL
    return directory.appendingPathComponent("keel")
}

/// Runs `executable` (the built `keel` unless given) with `arguments` to its end (or the watchdog's, after `seconds`);
/// `interruptAfter` sends Ctrl-C (SIGINT) then, as a person stopping `--watch` would.
/// `standardInput`: a file the command reads as its standard input (none otherwise).
func runProcess(_ arguments: [String], executable: URL = builtKeel, in directory: URL? = nil,
                environment: [String: String]? = nil, standardInput: URL? = nil, interruptAfter: Double? = nil,
                seconds: Double = 600) throws -> Outcome {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let environment { process.environment = environment }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = try standardInput.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
    try process.run()
    if let interruptAfter {
        DispatchQueue.global().asyncAfter(deadline: .now() + interruptAfter) { if process.isRunning { process.interrupt() } }
    }
    let watchdog = DispatchWorkItem { process.terminate() }
    DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    watchdog.cancel()
    return Outcome(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                   errors: String(decoding: err, as: UTF8.self),
                   hung: process.terminationReason == .uncaughtSignal && interruptAfter == nil)
}

/// A TCP port nothing listens on now (the system's choice for port 0).
func freeTCPPort() throws -> Int {
    #if canImport(Glibc)
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let descriptor = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    defer { _ = close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let port = withUnsafeMutablePointer(to: &address) { pointer -> Int in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic -> Int in
            guard bind(descriptor, generic, length) == 0, getsockname(descriptor, generic, &length) == 0 else { return 0 }
            return Int(UInt16(bigEndian: pointer.pointee.sin_port))
        }
    }
    guard port > 0 else { throw XCTSkip("no free TCP port") }
    return port
}
