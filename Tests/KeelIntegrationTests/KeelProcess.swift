// Running `keel` (or an installed copy) from the tests: one helper for every command-line test,
// with a watchdog so that a command that hangs ends the test instead of the suite.

import Foundation

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
func runProcess(_ arguments: [String], executable: URL = builtKeel, in directory: URL? = nil,
                environment: [String: String]? = nil, interruptAfter: Double? = nil, seconds: Double = 600) throws -> Outcome {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let environment { process.environment = environment }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
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
