// A read-only run of floats, used where it lies: in a mapped safetensors file, or in memory of its own when the
// file's tensor had to be converted (float16, bfloat16, unaligned). The adaptive tables of a large word model
// (about 148 MB for WikiText-103's) are read through these views instead of being copied at load.

public struct FloatView: @unchecked Sendable {
    public let base: UnsafePointer<Float>
    public let count: Int
    /// Keeps `base` valid: the mapped file's storage, or the copy below.
    let owner: AnyObject

    /// A view into storage that `owner` keeps alive.
    public init(_ base: UnsafePointer<Float>, count: Int, owner: AnyObject) {
        self.base = base; self.count = count; self.owner = owner
    }

    /// A view of a copy of `values`.
    public init(_ values: [Float]) {
        let copy = Copy(values)
        self.init(copy.base, count: values.count, owner: copy)
    }

    public subscript(i: Int) -> Float { base[i] }

    /// A copy, as an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Elements `range` of this view, sharing its storage.
    public func slice(_ range: Range<Int>) -> FloatView {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "FloatView: slice out of range")
        return FloatView(base + range.lowerBound, count: range.count, owner: owner)
    }

    private final class Copy {
        let base: UnsafeMutablePointer<Float>
        init(_ values: [Float]) {
            base = .allocate(capacity: max(values.count, 1))
            _ = UnsafeMutableBufferPointer(start: base, count: values.count).update(fromContentsOf: values)
        }
        deinit { base.deallocate() }
    }
}

extension SafetensorsFile {
    /// Tensor `name` as float32, in place in the mapping where it is float32 and aligned, else converted once.
    public func view(_ name: String, shape: [Int]? = nil) throws -> FloatView {
        let t = try tensor(name, shape: shape)
        if let p = mappedFloats(name) { return FloatView(p, count: t.count, owner: owner) }
        return FloatView(try floats(name))
    }
}
