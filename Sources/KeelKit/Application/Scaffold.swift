// `keel new NAME`: a new application that builds, passes its stack check and runs as it is:
// a manifest with one task on an automatic stack and a Swift file whose task logs three
// lines and ends the run. Everything else an application can say is in README.

import Foundation

public enum Scaffold {
    /// Writes `directory/name/` (keel.json and `<name>.swift`); returns the folder. The folder
    /// must not exist yet, or be empty.
    public static func create(name: String, in directory: URL) throws(KeelError) -> URL {
        guard name.utf8.count <= Manifest.maximumApplicationNameLength, Manifest.isIdentifier(name, allowDash: true) else {
            throw .badPath(path: name, problem: "an application's name is 1-\(Manifest.maximumApplicationNameLength) letters, digits, '-' or '_', starting with a letter")
        }
        let folder = directory.appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            guard isDirectory.boolValue, contents.isEmpty else {
                throw .badPath(path: folder.path, problem: "exists and is not an empty folder; `keel new` writes only into a new one")
            }
        }
        let swiftFile = name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + ".swift"
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try manifest(name).write(to: folder.appendingPathComponent(Manifest.fileName), atomically: true, encoding: .utf8)
            try source(name).write(to: folder.appendingPathComponent(swiftFile), atomically: true, encoding: .utf8)
        } catch {
            throw .badPath(path: folder.path, problem: "cannot be written: \((error as NSError).localizedDescription)")
        }
        return folder
    }

    static func manifest(_ name: String) -> String {
        """
        {
          "name": "\(name)",
          "tick_hz": 1000,
          "tasks": [
            { "name": "main", "entry": "mainTask", "priority": 1, "stack": "auto" }
          ]
        }

        """
    }

    static func source(_ name: String) -> String {
        """
        // \(name): one task. Add tasks in keel.json (each names a function like this one), and
        // queues, semaphores and mutexes beside them; see Keel's README.
        import Keel

        /// The application's one task: logs three lines 100 ms apart, then ends the run.
        func mainTask() {
            for round in 1...3 {
                Log.info("hello from \(name): round \\(round) at \\(Keel.milliseconds) ms")
                Keel.sleep(milliseconds: 100)
            }
            Keel.shutdown(code: 0)
        }

        """
    }
}
