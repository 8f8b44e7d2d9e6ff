// What the analysis assumes about Embedded Swift's standard library, stated once.
//
// Why: string interpolation links in the standard library's general String code, and some
// of it is only for strings Embedded Swift cannot have. Taken at face value the image shows
// recursions through it (UTF-16 index conversion, foreign growth) in every task that
// prints, and the only honest answer would be "unbounded" everywhere. These facts are the
// standard library's, not the application's; they are stated here (and in the README) so
// nobody has to guess. One more lives with the code that uses it: a jump through the word
// at offset 4 of an object's metadata is a class's deallocating deinit (ClassDestroyCall.swift).

enum SwiftRuntimeFacts {
    /// Code for foreign (bridged, UTF-16) strings and for indices in a foreign encoding.
    /// Embedded Swift has no Objective-C bridging: every string is native UTF-8, every index
    /// is a UTF-8 index, so these never run and are left out of every path.
    static func neverRuns(symbol: String, readable: String) -> Bool {
        guard Symbolizer.isSwiftMangled(symbol) else { return false }
        return readable.contains("_foreign") || readable.contains("_slowEnsureMatchingEncoding")
    }

    /// Destroying a String's storage releases its breadcrumbs, whose destruction releases an
    /// array of indices: at most two deinitialisers nest below a release. In the image the
    /// release's jump through a register reaches every destroyer, which looks like a cycle.
    static let recursionDepth: [String: UInt32] = [
        "__StringStorage.__deallocating_deinit": 2,
    ]
}
