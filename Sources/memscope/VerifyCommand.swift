// `memscope verify`: parity with the reference PyTorch implementation on fixture files.
import ArgumentParser
import Foundation
import TXL
import Training

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Check this build against reference parity fixtures: log-probs within 1e-4 nats, "
                + "gradients within 1e-3 relative error."
    )

    @Argument(
        help: ArgumentHelp(
            "Fixture files (.safetensors) made with the reference PyTorch code, or Hugging Face fixture folders "
                + "(Tests/Fixtures/hf/*: config.json, model.safetensors, vocab.json, expected.json)."))
    var fixtures: [String]

    @Option(help: "Largest allowed |delta log-prob| in nats.")
    var tolerance: Float = 1e-4

    @Option(help: "Largest allowed relative gradient error ||g - g_ref|| / ||g_ref||.")
    var gradTolerance: Float = 1e-3

    func run() throws {
        guard !fixtures.isEmpty else { throw Failure("verify: give at least one fixture file") }
        var failed = 0
        for path in fixtures {
            let name = (path as NSString).lastPathComponent
            if HFCheckpoint.isFolder(path) {
                let fx = try HFFixture(directory: path)
                let d = try fx.maxForwardDelta()
                let ok = d.all <= Double(tolerance)
                if !ok { failed += 1 }
                let c = fx.model.config
                print(
                    "\(ok ? "ok  " : "FAIL") \(name): max |delta log-prob| \(String(format: "%.2e", d.all)) nats over "
                        + "\(d.tokens) tokens vs Hugging Face (last partial segment \(String(format: "%.2e", d.last)); "
                        + "mem \(c.memLen), same_length \(c.sameLength), clamp \(c.clampLen), div_val \(c.divVal))")
                continue
            }
            let fx = try Fixture(path: path)
            let delta = try fx.maxForwardDelta()
            let ok = delta <= tolerance
            if !ok { failed += 1 }
            let c = fx.model.config
            print(
                "\(ok ? "ok  " : "FAIL") \(name): max |delta log-prob| \(String(format: "%.2e", delta)) nats over "
                    + "\(fx.segments) segments x \(c.tgtLen) x batch \(fx.batch) (mem "
                    + "\(c.memLens.map(String.init).joined(separator: ",")), same_length \(c.sameLength), clamp "
                    + "\(c.clampLen), pre_lnorm \(c.preLnorm))"
            )
            if fx.hasGradients {
                let report = try fx.gradientReport()
                let worst = report.worst
                let gok = worst.error <= gradTolerance
                if !gok { failed += 1 }
                print(
                    "\(gok ? "ok  " : "FAIL") \(name): gradients of \(report.relativeErrors.count) tensors, worst "
                        + "relative error \(String(format: "%.2e", worst.error)) (\(worst.name)); loss "
                        + "\(report.loss) vs \(report.referenceLoss)"
                )
                if !gok {
                    for e in report.relativeErrors where e.error > gradTolerance {
                        print("     \(e.name): \(String(format: "%.2e", e.error))")
                    }
                }
            }
        }
        if failed > 0 {
            throw Failure("verify: \(failed) of \(fixtures.count) fixtures outside tolerance \(tolerance)")
        }
    }
}
