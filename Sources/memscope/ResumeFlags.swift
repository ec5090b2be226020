// `train --resume`: which flags were given on the command line (not left at their defaults), as a ResumeRequest that
// Training checks against the checkpoint (TrainSettings.resumeConflicts) and applies (TrainSettings.resumed).
import Foundation
import TXL
import Training

extension TrainCommand {
    /// The long option names present in `arguments` (`--batch 8` and `--batch=8` both give "--batch").
    static func givenFlags(_ arguments: [String]) -> Set<String> {
        var out = Set<String>()
        for a in arguments.dropFirst() {
            if a == "--" { break }
            if a.hasPrefix("--") { out.insert(String(a.split(separator: "=", maxSplits: 1)[0])) }
        }
        return out
    }

    /// The explicitly given flags, with the values ArgumentParser parsed; `config` is the checkpoint's model.
    func resumeRequest(given: Set<String>, config c: Config, saved: TrainSettings, data: String) throws -> ResumeRequest
    {
        var r = ResumeRequest()
        func has(_ flag: String) -> Bool { given.contains(flag) }
        /// The parsed value of `flag` when the command line gave it, else nil (the checkpoint's value stands).
        func ifGiven<T>(_ flag: String, _ value: T) -> T? { has(flag) ? value : nil }
        r.layers = ifGiven("--layers", shape.layers); r.dModel = ifGiven("--d-model", shape.dModel)
        r.heads = ifGiven("--heads", shape.heads); r.dHead = ifGiven("--d-head", shape.dHead)
        r.dInner = ifGiven("--d-inner", shape.dInner); r.clamp = ifGiven("--clamp", shape.clamp)
        r.preLnorm = ifGiven("--pre-lnorm", shape.preLnorm); r.sameLength = ifGiven("--same-length", shape.sameLength)
        r.segment = ifGiven("--segment", shape.segment)
        let T = r.segment ?? saved.segment
        if has("--mem") || has("--lrm") || has("--srm") {
            r.memory = try MemorySpec.parse(
                mem ?? String(T), layers: c.nLayer,
                lrm: lrm ?? MemorySpec.defaultEvalLength(segment: T), srm: srm ?? T)
        }
        if let evalMem {
            r.evalMemory = try MemorySpec.parse(
                evalMem, layers: c.nLayer, lrm: MemorySpec.defaultEvalLength(segment: T),
                srm: srm ?? T)
        }
        r.batch = ifGiven("--batch", optim.batch); r.lr = ifGiven("--lr", optim.lr);
        r.warmup = ifGiven("--warmup", optim.warmup)
        r.minLR = ifGiven("--min-lr", optim.minLR); r.clip = ifGiven("--clip", optim.clip)
        r.dropout = ifGiven("--dropout", optim.dropout); r.dropatt = ifGiven("--dropatt", optim.dropatt)
        r.seed = ifGiven("--seed", seed); r.data = data; r.steps = optim.steps
        r.logEvery = ifGiven("--log-every", optim.logEvery); r.evalEvery = ifGiven("--eval-every", optim.evalEvery)
        r.evalBytes = ifGiven("--eval-bytes", optim.evalBytes); r.saveEvery = ifGiven("--save-every", optim.saveEvery)
        return r
    }

    /// The checkpoint's settings with the given flags checked and applied; throws naming every contradiction.
    func resumedSettings(file: SafetensorsFile, model: TransformerXL, data: String) throws -> TrainSettings {
        guard let ss = file.metadata["train_settings"], file.metadata["train_state"] != nil else {
            throw Failure("\(out): has no training state to resume from (was it written by `memscope train`?)")
        }
        let saved = try TrainSettings.decode(metadata: ss, path: out)
        let request = try resumeRequest(
            given: Self.givenFlags(CommandLine.arguments), config: model.config, saved: saved, data: data)
        let conflicts = saved.resumeConflicts(with: request, config: model.config, data: file.metadata["train_data"])
        guard conflicts.isEmpty else {
            let one = conflicts.count == 1
            let changeable = TrainSettings.changeableOnResume.joined(separator: ", ")
            throw Failure(
                "--resume: \(conflicts.joined(separator: "; ")) contradict\(one ? "s" : "") the checkpoint \(out); "
                    + "leave \(one ? "it" : "them") out (only \(changeable) may change)"
            )
        }
        return try saved.resumed(with: request)
    }
}

/// `--clamp -1`: a negative number after a long option is its value, not an option (ArgumentParser would refuse it).
enum NegativeValues {
    static func join(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { out += arguments[i...]; break }
            if a.hasPrefix("--"), !a.contains("="), i + 1 < arguments.count, isNegativeNumber(arguments[i + 1]) {
                out.append(a + "=" + arguments[i + 1]); i += 2; continue
            }
            out.append(a); i += 1
        }
        return out
    }

    static func isNegativeNumber(_ s: String) -> Bool {
        s.count >= 2 && s.hasPrefix("-") && Double(s) != nil
    }
}
