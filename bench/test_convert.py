#!/usr/bin/env python3
"""Tests the checkpoint-conversion recipe of bench/README.md, as written there.

    python bench/test_convert.py [OUT.safetensors]      (default /tmp/converted.safetensors, and -float16/-bfloat16 beside it)

Takes the `convert` function from the README's Python block, feeds it a state_dict in the form the
reference MemTransformerLM produces (with its `pos_emb.inv_freq` buffer, the tied
`crit.out_layers.0.weight` and a DataParallel "module." prefix), writes the file, and checks that
it loads back (strict names, exact config) and computes the same log-probs: exactly in float32,
closely in bfloat16. Also checks that the tensor names are exactly the fixtures' weight names.
"""

import glob
import json
import os
import re
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from reference_txl import MemTransformerLM, TXLConfig, load_safetensors  # noqa: E402


def recipe():
    text = open(os.path.join(here, "README.md")).read()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    code = block.split("# The reference train.py")[0]  # the imports and `convert`, not the usage lines
    scope = {}
    exec(compile(code, "README.md recipe", "exec"), scope)
    return scope["convert"]


def log_probs(model, data, tgt_len):
    mems = model.init_mems(data.size(1))
    out = []
    with torch.no_grad():
        for s in range((data.size(0) - 1) // tgt_len):
            inp, tgt = data[s * tgt_len:(s + 1) * tgt_len], data[s * tgt_len + 1:(s + 1) * tgt_len + 1]
            lp, mems = model.target_log_prob(inp, tgt, mems)
            out.append(lp)
    return torch.cat(out)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/converted.safetensors"
    convert = recipe()
    torch.manual_seed(0)
    cfg = TXLConfig(n_layer=3, n_head=2, d_model=32, d_head=16, d_inner=64, tgt_len=8, mem_lens=[16] * 3,
                    clamp_len=-1, pre_lnorm=False)
    model = MemTransformerLM(cfg)
    model.init_weights()
    model.eval()

    # What the reference's model.state_dict() holds, as saved from nn.DataParallel.
    ref_sd = {"module." + k: v for k, v in model.state_dict().items()}
    ref_sd["module.pos_emb.inv_freq"] = model.pos_emb.inv_freq
    ref_sd["module.crit.out_layers.0.weight"] = model.word_emb.emb_layers[0].weight

    data = torch.randint(0, 256, (8 * 4 + 1, 2))
    want = log_probs(model, data, cfg.tgt_len)
    failures = 0
    for dtype, tol in ((torch.float32, 0.0), (torch.float16, 5e-2), (torch.bfloat16, 2e-1)):
        path = out if dtype == torch.float32 else out.replace(".safetensors", "") + "-" + str(dtype)[6:] + ".safetensors"
        convert(ref_sd, path, n_layer=3, n_head=2, d_model=32, d_head=16, d_inner=64, tgt_len=8, mem_len=16,
                dtype=dtype)
        back, back_cfg, extra = load_safetensors(path)
        back.eval()
        delta = (log_probs(back, data, cfg.tgt_len) - want).abs().max().item()
        ok = not extra and back_cfg == cfg and delta <= tol
        failures += not ok
        print(f"{'ok' if ok else 'FAIL':4s} convert {str(dtype):15s} -> {path}: {os.path.getsize(path)} bytes, "
              f"max |dlogprob| {delta:.2e} (tolerance {tol:g}), extra tensors {sorted(extra)}")

    from safetensors import safe_open
    with safe_open(out, framework="pt") as f:
        names, meta = set(f.keys()), json.loads(f.metadata()["txl_config"])
    fixtures = sorted(glob.glob(os.path.join(os.environ.get("MEMSCOPE_FIXTURES", os.path.join(here, "..", "..", "shared", "fixtures")), "*.safetensors")))
    if fixtures:
        with safe_open(fixtures[0], framework="pt") as f:
            fixture_names = {k for k in f.keys() if not k.startswith(("grad.", "fixture."))}
            fixture_meta = set(json.loads(f.metadata()["txl_config"]))
        # Same tensor names for the same layer count (the fixture has 4 layers, this model 3).
        want_names = {re.sub(r"^layers\.3\..*", "", k) for k in fixture_names} - {""}
        ok = names == want_names and set(meta) == fixture_meta - {"segments", "batch", "seed"}
        failures += not ok
        print(f"{'ok' if ok else 'FAIL':4s} tensor names and txl_config keys match {os.path.basename(fixtures[0])}")
    print(f"test_convert: {'passed' if not failures else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
