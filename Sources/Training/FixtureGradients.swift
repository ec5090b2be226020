// Gradient parity with the reference: d(mean NLL of the last segment)/d(every parameter) against `grad.*`.
import Foundation
import TXL

public struct GradientReport: Sendable {
    public let loss: Float, referenceLoss: Float
    /// ||g - g_ref|| / ||g_ref|| per parameter, in table order.
    public let relativeErrors: [(name: String, error: Float)]
    public var worst: (name: String, error: Float) { relativeErrors.max { $0.error < $1.error } ?? ("-", 0) }
}

extension Fixture {
    public var hasGradients: Bool { file.tensors["grad.loss"] != nil }

    /// Runs all segments (memories carried, no dropout), back-propagates the last one, compares with `grad.*`.
    public func gradientReport() throws -> GradientReport {
        let c = model.config
        let grads = ParameterStore(config: c)
        let pass = try TrainingPass(model: model, grads: grads, batch: batch, segment: c.tgtLen, memory: c.memLens)
        var loss: Float = 0
        for s in 0..<segments {
            let (inp, tgt) = segment(s)
            loss = pass.forward(inputs: inp, targets: tgt, training: false)
        }
        pass.backward()
        let refLoss = try file.floats("grad.loss")[0]
        var errors: [(String, Float)] = []
        for spec in grads.specs {
            let ref = try file.floats("grad." + spec.name, shape: spec.shape)
            let mine = grads.buffer(spec)
            var num = 0.0, den = 0.0
            for i in 0..<ref.count {
                let d = Double(mine[i]) - Double(ref[i])
                num += d * d; den += Double(ref[i]) * Double(ref[i])
            }
            let err = den > 0 ? (num / den).squareRoot() : num.squareRoot()
            errors.append((spec.name, err.isNaN ? .infinity : Float(err)))
        }
        return GradientReport(loss: loss, referenceLoss: refLoss, relativeErrors: errors)
    }
}
