// Runs a tool to completion and captures what it printed.

import Foundation

struct ToolResult: Sendable {
    var status: Int32
    var output: String
}

enum Subprocess {
    /// Runs `executable` with `arguments`; stdout and stderr are captured together.
    static func run(_ executable: URL, _ arguments: [String]) throws(KeelError) -> ToolResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            throw .toolMissing(tool: executable.path, hint: "it could not be started: \(error.localizedDescription)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ToolResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Runs a build step; a non-zero exit is a `buildFailed` error carrying the tool's output.
    static func step(_ name: String, _ executable: URL, _ arguments: [String]) throws(KeelError) {
        let result = try run(executable, arguments)
        guard result.status == 0 else {
            throw .buildFailed(step: name, output: result.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// The first executable called `name` in `directories`, then on PATH.
    static func find(_ name: String, in directories: [String] = []) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in directories + path.split(separator: ":").map(String.init) {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}
