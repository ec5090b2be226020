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
    func resumeRequest(given: Set<String>, config c: Config, saved: TrainSettings, data: String) throws -> ResumeRequest {
        var r = ResumeRequest()
        func has(_ flag: String) -> Bool { given.contains(flag) }
        if has("--layers") { r.layers = shape.layers }
        if has("--d-model") { r.dModel = shape.dModel }
        if has("--heads") { r.heads = shape.heads }
        if has("--d-head") { r.dHead = shape.dHead }
        if has("--d-inner") { r.dInner = shape.dInner }
        if has("--clamp") { r.clamp = shape.clamp }
        if has("--pre-lnorm") { r.preLnorm = shape.preLnorm }
        if has("--same-length") { r.sameLength = shape.sameLength }
        if has("--segment") { r.segment = shape.segment }
        let T = has("--segment") ? shape.segment : saved.segment
        if has("--mem") || has("--lrm") || has("--srm") {
            r.memory = try MemorySpec.parse(mem ?? String(T), layers: c.nLayer,
                                           lrm: lrm ?? MemorySpec.defaultEvalLength(segment: T), srm: srm ?? T)
        }
        if let evalMem {
            r.evalMemory = try MemorySpec.parse(evalMem, layers: c.nLayer, lrm: MemorySpec.defaultEvalLength(segment: T),
                                                srm: srm ?? T)
        }
        if has("--batch") { r.batch = optim.batch }
        if has("--lr") { r.lr = optim.lr }
        if has("--warmup") { r.warmup = optim.warmup }
        if has("--min-lr") { r.minLR = optim.minLR }
        if has("--clip") { r.clip = optim.clip }
        if has("--dropout") { r.dropout = optim.dropout }
        if has("--dropatt") { r.dropatt = optim.dropatt }
        if has("--seed") { r.seed = seed }
        r.data = data
        r.steps = optim.steps
        if has("--log-every") { r.logEvery = optim.logEvery }
        if has("--eval-every") { r.evalEvery = optim.evalEvery }
        if has("--eval-bytes") { r.evalBytes = optim.evalBytes }
        if has("--save-every") { r.saveEvery = optim.saveEvery }
        return r
    }

    /// The checkpoint's settings with the given flags checked and applied; throws naming every contradiction.
    func resumedSettings(file: SafetensorsFile, model: TransformerXL, data: String) throws -> TrainSettings {
        guard let ss = file.metadata["train_settings"], file.metadata["train_state"] != nil else {
            throw Failure("\(out): has no training state to resume from (was it written by `memscope train`?)")
        }
        let saved = try TrainSettings.decode(metadata: ss, path: out)
        let request = try resumeRequest(given: Self.givenFlags(CommandLine.arguments), config: model.config, saved: saved, data: data)
        let conflicts = saved.resumeConflicts(with: request, config: model.config, data: file.metadata["train_data"])
        guard conflicts.isEmpty else {
            throw Failure("--resume: \(conflicts.joined(separator: "; ")) contradict\(conflicts.count == 1 ? "s" : "") the checkpoint "
                + "\(out); leave \(conflicts.count == 1 ? "it" : "them") out (only \(TrainSettings.changeableOnResume.joined(separator: ", ")) may change)")
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
