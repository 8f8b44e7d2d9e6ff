// A hint for an application written for an older Keel whose sources no longer compile.
//
// Why: the kernel became a module of its own (`Keel`), so an application's file must say
// `import Keel`; a file from before that fails with "cannot find 'Keel' in scope" and a
// dozen errors like it, none of which says what changed. When a compile fails and a source
// file has no `import Keel`, the error ends with the one line that fixes it.

import Foundation

public enum OlderKeelHint {
    /// `error` with the hint appended when it is a failed compile and a file lacks the import.
    static func annotated(_ error: KeelError, sources: [URL]) -> KeelError {
        guard case .buildFailed(let step, let output) = error else { return error }
        let missing = sources.filter { source in
            guard let text = try? String(contentsOf: source, encoding: .utf8) else { return false }
            return !importsKeel(text)
        }
        guard !missing.isEmpty else { return error }
        let files = missing.map(\.lastPathComponent).sorted().joined(separator: ", ")
        return .buildFailed(step: step, output: output + "\nhint: \(files) \(missing.count == 1 ? "has" : "have") no `import Keel`; "
            + "the kernel is a module of its own now (an older Keel compiled it with the application): add \"import Keel\" at the top of "
            + (missing.count == 1 ? "it" : "each"))
    }

    /// True when a line of `text` outside comments imports the Keel module.
    static func importsKeel(_ text: String) -> Bool {
        EntryCheck.stripped(text).split(separator: "\n").contains { line in
            let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
            return words.count >= 2 && words[0] == "import" && words[1] == "Keel"
        }
    }
}
