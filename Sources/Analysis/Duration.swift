// Durations for people: progress lines, ETAs and summaries in every command and the explorer.

/// "42s", "3m05s" or "1h02m"; "?" when unknown.
public func formatDuration(_ t: Double) -> String {
    guard t.isFinite && t >= 0 else { return "?" }
    let s = Int(t.rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m" + pad2(s % 60) + "s" }
    return "\(s / 3600)h" + pad2(s / 60 % 60) + "m"
}

private func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
