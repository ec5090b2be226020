// Fitting text into a width without cutting a word or a number in two: the longest of several forms that
// fits, else the text cut at the last space (with `…`). Headers and status lines use it (issue 9).

/// `text` if it fits in `width` cells; else cut at the last space that leaves room for `…`.
public func cutAtWord(_ text: String, _ width: Int, ascii: Bool = false) -> String {
    let scalars = Array(text.unicodeScalars)
    guard scalars.count > width else { return text }
    guard width > 2 else { return "" }
    let ellipsis: Unicode.Scalar = ascii ? "~" : "…"
    var end = width - 2  // room for " …"
    while end > 0 && scalars[end] != " " { end -= 1 }
    // Drop separators left dangling at the cut (` · `, ` │ `).
    while end > 0 && (scalars[end - 1] == " " || scalars[end - 1] == "·" || scalars[end - 1] == "│"
        || scalars[end - 1] == "|" || scalars[end - 1] == "-" && end >= 2 && scalars[end - 2] == " ")
    {
        end -= 1
    }
    guard end > 0 else { return "" }
    var v = String.UnicodeScalarView(scalars[..<end])
    v.append(" ")
    v.append(ellipsis)
    return String(v)
}

/// The first of `forms` (longest first) that fits in `width` cells; else the last one cut at a word.
public func fitting(_ forms: [String], _ width: Int, ascii: Bool = false) -> String {
    for f in forms where f.unicodeScalars.count <= width { return f }
    return cutAtWord(forms.last ?? "", width, ascii: ascii)
}

/// `text` in lines of at most `width` characters, broken at spaces. A word longer than `width` is cut when
/// `cutLongWords` (help text), else it keeps a line of its own (memory groups such as `L0-4:128`).
func wrapWords(_ text: String, width: Int, cutLongWords: Bool) -> [String] {
    var out: [String] = [], line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
        if line.isEmpty {
            line = word
        } else if line.count + 1 + word.count <= width {
            line += " " + word
        } else {
            out.append(line); line = word
        }
        while cutLongWords && line.count > width {
            out.append(String(line.prefix(width))); line = String(line.dropFirst(width))
        }
    }
    if !line.isEmpty || out.isEmpty { out.append(line) }
    return out
}
