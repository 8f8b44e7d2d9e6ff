// Long report lines broken at spaces into lines a terminal shows whole.
//
// Why: a finding carries a call path that can run to a thousand characters; as one line it
// is unreadable in a terminal and in a CI log. A call path breaks only after an arrow, so a
// function's name ("closure #1 in mainTask()") stays whole even where it has spaces or is
// longer than the width; other text breaks at spaces. A continuation line is indented so
// that the reader sees where each logical line starts.

public enum LineWrap {
    /// The width a report line is wrapped to.
    public static let width = 100

    /// `text` in lines of at most `width` characters (a longer word gets a line of its own),
    /// the first starting with `first`, the others with `rest`.
    public static func lines(_ text: String, width: Int = width, first: String = "", rest: String = "    ") -> [String] {
        var lines: [String] = []
        var line = first
        var lineHasWord = false
        // Pieces that stay whole: each step of a call path with its arrow; before the first
        // arrow (the words that introduce the path), each word.
        let steps = text.components(separatedBy: " -> ")
        var words = steps[0].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        for step in steps.dropFirst() {
            words[words.count - 1] += " ->"
            words.append(step)
        }
        for word in words {
            if lineHasWord && line.count + 1 + word.count > width {
                lines.append(line)
                line = rest
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines
    }
}
