// Byte-offset splits: train [0, a), valid [a, b), test [b, n); 90/5/5 by floor, or enwik8's fixed sizes.

public enum Split: String, CaseIterable, Codable, Sendable {
    case train, valid, test

    /// File name of the split inside a corpus folder.
    public var fileName: String { "\(rawValue).bin" }
}

public struct SplitPlan: Equatable, Sendable {
    public let total: Int
    public let trainEnd: Int
    public let validEnd: Int

    public init(total: Int, trainEnd: Int, validEnd: Int) {
        precondition(0 <= trainEnd && trainEnd <= validEnd && validEnd <= total, "split offsets out of order")
        self.total = total
        self.trainEnd = trainEnd
        self.validEnd = validEnd
    }

    /// train [0, floor(0.9n)), valid [floor(0.9n), floor(0.95n)), test [floor(0.95n), n), in integers
    /// so that no floating-point rounding moves a boundary.
    public static func ninetyFiveFive(total n: Int) -> SplitPlan {
        SplitPlan(total: n, trainEnd: n * 90 / 100, validEnd: n * 95 / 100)
    }

    /// From 20 bytes on, 90/5/5 leaves every split at least one byte (floor(0.05n) >= 1); below it some
    /// sizes do (11) and some do not (10), so 20 is the rule.
    public static let minimumNinetyFiveFive = 20

    /// enwik8's standard split (as in the Transformer-XL reference): 90M / 5M / 5M of exactly 100M bytes.
    public static let enwik8Total = 100_000_000
    public static let enwik8 = SplitPlan(total: enwik8Total, trainEnd: 90_000_000, validEnd: 95_000_000)

    public func range(_ split: Split) -> Range<Int> {
        switch split {
        case .train: return 0..<trainEnd
        case .valid: return trainEnd..<validEnd
        case .test: return validEnd..<total
        }
    }

    public var allNonEmpty: Bool { Split.allCases.allSatisfy { !range($0).isEmpty } }
}
