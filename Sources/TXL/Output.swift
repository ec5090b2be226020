// The output layer's softmax and cross-entropy (reference: ProjectedAdaptiveLogSoftmax with one cluster).
import Foundation

public enum Output {
    /// logprob[n] = log softmax(logits[n])[target[n]]; logits [N, V] become probabilities when `keepProbs`.
    public static func logSoftmax<Token: BinaryInteger>(
        _ logprob: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>,
        targets: UnsafePointer<Token>, N: Int, V: Int, keepProbs: Bool
    ) {
        for n in 0..<N {
            let x = logits + n * V
            var mx = -Float.infinity
            for i in 0..<V { mx = max(mx, x[i]) }
            var sum: Float = 0
            for i in 0..<V { sum += expf(x[i] - mx) }
            let lse = mx + logf(sum)
            logprob[n] = x[Int(targets[n])] - lse
            if keepProbs { for i in 0..<V { x[i] = expf(x[i] - lse) } }
        }
    }

    /// d(mean NLL)/dlogits given the probabilities: (p - onehot(target)) * scale, in place over probs.
    public static func crossEntropyBackward(
        _ probs: UnsafeMutablePointer<Float>, targets: UnsafePointer<UInt8>,
        N: Int, V: Int, scale: Float
    ) {
        for n in 0..<N {
            let p = probs + n * V
            p[Int(targets[n])] -= 1
            for i in 0..<V { p[i] *= scale }
        }
    }
}
