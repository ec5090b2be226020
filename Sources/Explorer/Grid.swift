// The screen as a value: cells with a character and a semantic role. The curses adapter maps roles to
// colours and attributes; tests compare the characters as golden text.

public enum Role: Sendable, Hashable {
    case plain, header, title, selected, dim, accent, warning, error, border, cursor
    /// A heat cell: `top` is the foreground level (the upper half of `▀`), `bottom` the background; 0...15.
    case heat(top: UInt8, bottom: UInt8)
    /// Text shaded by a level 0...15 (loss in bits, or attention): background colour, or attributes without colour.
    case shade(UInt8)
    /// Text shaded by a loss difference, B minus A: -7 (B much better) ... 0 (same) ... 7 (B much worse).
    case delta(Int8)
    /// A byte of a hit of the last `/` search in the text pane.
    case match
}

public struct Cell: Sendable, Hashable {
    public var char: Unicode.Scalar
    public var role: Role
    public init(_ char: Unicode.Scalar, _ role: Role = .plain) { self.char = char; self.role = role }
    public static let blank = Cell(" ")
}

public struct Size: Sendable, Hashable {
    public var width: Int, height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
}

/// A rectangle on the grid, in cells.
public struct Rect: Sendable, Hashable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }
    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < x + width && py >= y && py < y + height }
    public var maxY: Int { y + height }
    public var maxX: Int { x + width }
}

public struct Grid: Sendable, Equatable {
    public let width: Int, height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width); self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { if x >= 0, x < width, y >= 0, y < height { cells[y * width + x] = newValue } }
    }

    public mutating func set(_ x: Int, _ y: Int, _ char: Unicode.Scalar, _ role: Role = .plain) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        cells[y * width + x] = Cell(char, role)
    }

    /// Writes `text` from (x, y), clipped to `maxWidth` cells (and the grid); returns the cells written.
    @discardableResult
    public mutating func put(_ x: Int, _ y: Int, _ text: String, _ role: Role = .plain, maxWidth: Int = .max) -> Int {
        guard y >= 0, y < height else { return 0 }
        var cx = x
        let limit = min(width, maxWidth == .max ? width : x + maxWidth)
        for s in text.unicodeScalars {
            if cx >= limit { break }
            if cx >= 0 { cells[y * width + cx] = Cell(s, role) }
            cx += 1
        }
        return cx - x
    }

    public mutating func fill(_ rect: Rect, _ char: Unicode.Scalar = " ", _ role: Role = .plain) {
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) { cells[y * width + x] = Cell(char, role) }
        }
    }

    /// Sets the role of the cells in a row range without touching the characters.
    public mutating func paint(_ x: Int, _ y: Int, width w: Int, _ role: Role) {
        guard y >= 0, y < height else { return }
        for cx in max(0, x)..<min(width, x + w) { cells[y * width + cx].role = role }
    }

    /// The characters of row y, trailing spaces kept.
    public func line(_ y: Int) -> String {
        var s = String.UnicodeScalarView()
        for x in 0..<width { s.append(cells[y * width + x].char) }
        return String(s)
    }

    /// All rows with trailing spaces trimmed: what golden tests compare.
    public var text: String {
        (0..<height).map { y in
            var l = line(y)
            while l.last == " " { l.removeLast() }
            return l
        }.joined(separator: "\n")
    }
}
