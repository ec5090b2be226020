// Where each pane goes for a terminal size. Render draws into these rectangles; the reducer uses the
// same layout to map mouse clicks and to size page moves.

public struct Layout: Sendable, Equatable {
    public static let minimum = Size(width: 80, height: 24)

    public let size: Size
    public let tooSmall: Bool
    public let title: Rect
    public let status: Rect
    public let layers: Rect  // sidebar: layer table and totals
    public let evalSummary: Rect  // sidebar: evaluation progress
    public let tabs: Rect  // main area: pane tabs
    public let panes: [Pane: Rect]  // main area: the panes shown (one, or four when large)

    public init(size: Size, layerCount: Int, mainPane: Pane) {
        self.size = size
        let w = size.width, h = size.height
        tooSmall = w < Layout.minimum.width || h < Layout.minimum.height
        title = Rect(x: 0, y: 0, width: w, height: 1)
        status = Rect(x: 0, y: h - 1, width: w, height: 1)
        let bodyHeight = h - 2
        let sidebar = w >= 120 ? 34 : 30
        let layersHeight = Swift.max(6, Swift.min(layerCount + 5, bodyHeight - 6))
        layers = Rect(x: 0, y: 1, width: sidebar, height: layersHeight)
        evalSummary = Rect(x: 0, y: 1 + layersHeight, width: sidebar, height: bodyHeight - layersHeight)
        let mx = sidebar + 1, mw = w - mx
        tabs = Rect(x: mx, y: 1, width: mw, height: 1)
        let top = 2, mh = bodyHeight - 1
        if w >= 150 && h >= 40 {
            let lw = mw / 2, th = mh / 2
            panes = [
                .attention: Rect(x: mx, y: top, width: lw - 1, height: th),
                .text: Rect(x: mx + lw, y: top, width: mw - lw, height: th),
                .distance: Rect(x: mx, y: top + th, width: lw - 1, height: mh - th),
                .evaluation: Rect(x: mx + lw, y: top + th, width: mw - lw, height: mh - th),
            ]
        } else {
            panes = [mainPane == .layers ? .attention : mainPane: Rect(x: mx, y: top, width: mw, height: mh)]
        }
    }

    public init(_ s: AppState) { self.init(size: s.size, layerCount: s.model.layers, mainPane: s.mainPane) }

    /// The pane under a screen position (the sidebar counts as Layers).
    public func pane(atX x: Int, y: Int) -> Pane? {
        if evalSummary.contains(x: x, y: y) { return .evaluation }
        if layers.contains(x: x, y: y) { return .layers }
        for (p, r) in panes where r.contains(x: x, y: y) { return p }
        return nil
    }

    /// The tabs in the main area, one per pane but Layers (the sidebar): "2 Attention  3 Distance ...".
    public var tabLabels: [(pane: Pane, x: Int, label: String)] {
        var x = tabs.x + 1
        return Pane.allCases.dropFirst().map { p in
            let label = "\(p.rawValue) \(p)"
            defer { x += label.count + 2 }
            return (p, x, label)
        }
    }

    /// The tab under a screen position (its label and the two spaces after it).
    public func tab(atX x: Int, y: Int) -> Pane? {
        guard tabs.contains(x: x, y: y) else { return nil }
        return tabLabels.first { x < $0.x + $0.label.count + 2 }?.pane
    }

    // Inner geometry shared by render and reducer.
    /// Attention pane: rows of heat cells (each two queries when half-blocks are on) and the columns. Left of
    /// it the query positions (4 columns) and the cursor query's pointer; under it the x axis, its labels, the
    /// legend, the key cursor's readout and the "reads" strip (4 rows).
    public static func heatArea(_ r: Rect) -> Rect {
        Rect(x: r.x + 5, y: r.y + 1, width: r.width - 5, height: Swift.max(1, r.height - 9))
    }
    /// Text pane: the byte grid.
    public static func textArea(_ r: Rect) -> Rect {
        Rect(x: r.x, y: r.y + 1, width: r.width, height: Swift.max(1, r.height - 2))
    }
    /// Layers pane: the first row of the layer table.
    public static let layerTableTop = 1
    /// Evaluation pane: the first run row.
    public static let runTableTop = 3
}
