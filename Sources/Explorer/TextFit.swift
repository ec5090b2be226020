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
