import Testing
@testable import Explorer
import TXL

func show(_ a: Action) -> String { "\(a)" }

@Suite struct CommandParserTests {
    func parse(_ s: String) -> Result<[Action], MemoryError> {
        CommandParser.parse(s, layers: 4, heads: 2, maxMemory: 256, textCount: 1000, long: 128, short: 16)
    }
    func text(_ s: String) -> String {
        switch parse(s) {
        case .success(let a): return a.map(show).joined(separator: ";")
        case .failure(let e): return "error: \(e)"
        }
    }

    @Test func memoryCommandsBecomeLayerActions() {
        #expect(text("mem 3 128") == show(.layers(.set(layer: 3, length: 128))))
        #expect(text("mem L0-1:8,L2-3:32") == show(.layers(.setAll([8, 8, 32, 32]))))
        #expect(text("mem 64") == show(.layers(.setAll([64, 64, 64, 64]))))
        #expect(text("mem interleaved:2") == show(.layers(.setAll([16, 128, 16, 128]))))
        #expect(text("preset interleaved:2") == show(.layers(.applyPreset(.interleaved(2)))))
        #expect(text("preset full") == show(.layers(.applyPreset(.full))))
        #expect(text("lrm 256") == show(.layers(.setLong(256))))
        #expect(text("srm 64") == show(.layers(.setShort(64))))
        #expect(text("q") == show(.general(.quit)))
        #expect(text("  ") == "")
    }

    @Test func otherCommandsBecomeTheirActions() {
        #expect(text("layer 2") == show(.layers(.select(2))))
        #expect(text("head max") == show(.heatmap(.setHead(.max))))
        #expect(text("head 1") == show(.heatmap(.setHead(.head(1)))))
        #expect(text("bytes 500") == show(.eval(.setBytes(500, from: 0))))
        #expect(text("goto 10") == show(.text(.setCursor(10))))
        #expect(text("eval") == show(.eval(.start)))
        #expect(text("export") == show(.general(.export)))
    }

    @Test func errorsNameTheValueAndTheLimit() {
        #expect(text("mem 3 9999") == "error: memory length 9999 is outside 0...256")
        #expect(text("mem 4 1") == "error: layer 4 does not exist (layers 0-3)")
        #expect(text("mem 3 x") == "error: a memory length must be a whole number, not x")
        #expect(
            text("preset sideways")
                == "error: unknown preset sideways (full, none, first:K, last:K, interleaved:K)")
        #expect(text("lrm").hasPrefix("error: :lrm takes 1 argument"))
        #expect(text("long").hasPrefix("error: :long takes 1 argument"))
        #expect(text("head 2") == "error: head 2 does not exist (heads 0-1)")
        #expect(text("frobnicate").hasPrefix("error: unknown command :frobnicate"))
    }

    /// Issue 8, finding 13: `:preset` follows MemorySpec's grammar, as `--mem` does.
    @Test func presetAcceptsWhatMemAcceptsAndRefusesTheSame() {
        #expect(text("preset interleaved:0") == show(.layers(.applyPreset(.interleaved(0)))))
        #expect(text("preset first:0") == show(.layers(.applyPreset(.first(0)))))
        #expect(text("preset interleaved:999") == "error: \"interleaved:999\": K is 999 but the model has 4 layers")
        #expect(text("mem interleaved:999") == "error: \"interleaved:999\": K is 999 but the model has 4 layers")
        #expect(text("preset last:x") == "error: preset last:x: K must be a whole number")
        let specs = ["full", "none", "first:0", "first:1", "last:2", "interleaved:0", "interleaved:3", "interleaved:4"]
        for spec in specs {
            let preset = try! Preset.parse(spec, layers: 4)
            #expect(
                try! preset.lengths(layers: 4, long: 128, short: 16)
                    == MemoryPlan.parse(spec, layers: 4, long: 128, short: 16, maxMemory: 256), "\(spec)")
        }
    }

    @Test func everyCommandIsInTheHelp() {
        let help = KeyMap.helpLines().filter { $0.group == "Commands (:)" }.map(\.keys)
        for c in CommandParser.commands { #expect(help.contains(c.usage)) }
        #expect(help.count == CommandParser.commands.count)
    }
}

@Suite struct MemoryPlanTests {
    @Test func presetsPlaceLongAndShortLengths() throws {
        #expect(try Preset.full.lengths(layers: 6, long: 512, short: 64) == [512, 512, 512, 512, 512, 512])
        #expect(try Preset.none.lengths(layers: 3, long: 512, short: 64) == [0, 0, 0])
        #expect(try Preset.first(2).lengths(layers: 4, long: 9, short: 1) == [9, 9, 1, 1])
        #expect(try Preset.last(1).lengths(layers: 4, long: 9, short: 1) == [1, 1, 1, 9])
        #expect(try Preset.interleaved(3).lengths(layers: 6, long: 9, short: 1) == [1, 9, 1, 9, 1, 9])
        for p in Preset.cycle { #expect(try Preset.parse(p.description, layers: 6) == p) }
    }

    @Test func specsParseAndLengthsAboveTheEngineLimitAreRefused() throws {
        let m = [64, 64, 64, 512, 512, 0]
        #expect(try MemoryPlan.parse(MemorySpec.compact(m), layers: 6, long: 512, short: 64, maxMemory: 1024) == m)
        #expect(try MemoryPlan.parse("64,64,64,512,512,0", layers: 6, long: 512, short: 64, maxMemory: 1024) == m)
        #expect(
            try MemoryPlan.parse("last:2", layers: 6, long: 512, short: 64, maxMemory: 1024)
                == [64, 64, 64, 64, 512, 512])
        #expect(throws: MemoryError.invalid("memory length 2048 for layer 0 is outside 0...1024")) {
            try MemoryPlan.parse("2048", layers: 6, long: 512, short: 64, maxMemory: 1024)
        }
        #expect(throws: MemoryError.invalid("\"L0-2:64\" leaves layer 3 without a length")) {
            try MemoryPlan.parse("L0-2:64", layers: 6, long: 512, short: 64, maxMemory: 1024)
        }
        #expect(throws: MemoryError.invalid("\"1,2\" gives 2 lengths but the model has 6 layers")) {
            try MemoryPlan.parse("1,2", layers: 6, long: 512, short: 64, maxMemory: 1024)
        }
    }

    @Test func stateSizeIsTXLsCountAndRatioIsToTheDefault() {
        // The paper's count: sum of memory lengths x d_model (FakeEngine: d_model 16).
        #expect(ModelInfo(FakeEngine()).stateFloats([512, 512, 64, 0]) == 1088 * 16)
        #expect(MemoryPlan.ratio([64, 64, 64, 512], to: [512, 512, 512, 512]) == 704.0 / 2048.0)
        #expect(MemoryPlan.ratio([1], to: [0]).isNaN)
    }
}
