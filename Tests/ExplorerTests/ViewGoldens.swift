// Golden screens: each is a text file in Tests/Fixtures/goldens (a screen as `Grid.text` gives it). A test that
// renders one also writes what it drew to $RENDER_DUMP/<name>.txt when that variable is set, to review a change
// with diff and copy it over the golden.
import Foundation

/// The golden screen `name` (Tests/Fixtures/goldens/name.txt).
func golden(_ name: String) -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/goldens/\(name).txt")
    do { return try String(contentsOf: url, encoding: .utf8) } catch { return "missing golden \(url.path): \(error)" }
}

// The opening screen and the attention pane (issue 9).

let goldenOpening80x24 = golden("goldenOpening80x24")
let goldenOpening140x45Left = golden("goldenOpening140x45Left")
let goldenOpening140x45Right = golden("goldenOpening140x45Right")

let goldenAttentionKeyFixed = golden("goldenAttentionKeyFixed")
