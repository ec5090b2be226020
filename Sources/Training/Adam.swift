// Adam (Kingma & Ba 2015) with linear warm-up then cosine decay and global gradient-norm clipping,
// as the reference trains (train.py: optim.Adam, scheduler 'cosine' with warmup_step, clip_grad_norm_).
import Foundation
import TXL

public struct Schedule: Codable, Sendable, Equatable {
    public var lr: Float
    public var warmup: Int
    public var steps: Int
    public var minLR: Float

    public init(lr: Float, warmup: Int, steps: Int, minLR: Float = 0) {
        self.lr = lr; self.warmup = warmup; self.steps = steps; self.minLR = minLR
    }

    /// Learning rate for step s (1-based).
    public func rate(at s: Int) -> Float {
        if s <= warmup { return lr * Float(s) / Float(max(warmup, 1)) }
        let progress = Float(s - warmup) / Float(max(steps - warmup, 1))
        return minLR + (lr - minLR) * 0.5 * (1 + cos(Float.pi * min(progress, 1)))
    }
}

public final class Adam: @unchecked Sendable {
    public let m: ParameterStore
    public let v: ParameterStore
    public var step = 0
    public let beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8

    public init(config: Config) {
        m = ParameterStore(config: config)
        v = ParameterStore(config: config)
    }

    /// Scales grads so their global L2 norm is at most maxNorm; returns the norm before clipping.
    @discardableResult
    public static func clip(_ grads: ParameterStore, maxNorm: Float) -> Float {
        var s = 0.0
        for g in grads.storage { s += Double(g) * Double(g) }
        let norm = Float(s.squareRoot())
        if maxNorm > 0 && norm > maxNorm {
            let k = maxNorm / (norm + 1e-6)
            for i in grads.storage.indices { grads.storage[i] *= k }
        }
        return norm
    }

    public func update(_ params: ParameterStore, grads: ParameterStore, lr: Float) {
        step += 1
        let b1 = beta1, b2 = beta2
        let c1 = 1 - powf(b1, Float(step)), c2 = 1 - powf(b2, Float(step))
        let stepSize = lr / c1, c2r = 1 / c2.squareRoot()
        let p = params.storage.baseAddress!, g = grads.storage.baseAddress!
        let mm = m.storage.baseAddress!, vv = v.storage.baseAddress!
        for i in 0..<params.storage.count {
            let gi = g[i]
            mm[i] = b1 * mm[i] + (1 - b1) * gi
            vv[i] = b2 * vv[i] + (1 - b2) * gi * gi
            p[i] -= stepSize * mm[i] / (vv[i].squareRoot() * c2r + eps)
        }
    }
}
