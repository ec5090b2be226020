#!/usr/bin/env python3
"""Makes the Hugging Face parity fixtures in Tests/Fixtures/hf/<name>/ (opt-in: `make hf-fixtures`).

Each fixture is a small random Transformer-XL made with transformers' own TransfoXLLMHeadModel (4.57.6, the last
release that has it), saved with save_pretrained (safetensors), a vocab.pkl like the real tokenizer's (its whole
attribute dict, sacremoses objects included) turned into vocab.json by scripts/convert-hf.py, and expected.json:
texts, their token ids, and Hugging Face's log-probability of every next token over several segments with
memories carried, from empty memories passed explicitly, the last segment partial.

Needs torch and transformers==4.57.6 (the Makefile target makes .venv-hf/). Usage: make-hf-fixtures.py [OUT_DIR]
"""
import collections
import inspect
import json
import math
import os
import pickle
import re
import subprocess
import sys
import textwrap
import types

import torch
import transformers
from transformers import TransfoXLConfig, TransfoXLLMHeadModel
from transformers.models.deprecated.transfo_xl import modeling_transfo_xl as mtx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The fixtures' models: each setting the loader must get right appears in at least one.
MODELS = [
    # The WikiText-103 model's arrangement: div_val 4, tie_projs [F, T, T, T], untie_r, same_length, clamp_len.
    dict(name="div4-same-length", vocab_size=500, cutoffs=[50, 100, 300], div_val=4, d_model=64, d_embed=64,
         n_layer=3, n_head=4, d_head=16, d_inner=96, mem_len=12, clamp_len=10, same_length=True,
         proj_share_all_but_first=True, untie_r=True, tgt_len=8, segments=3, partial=5),
    # div_val 2 with d_embed != d_model, untied output weights, shared r biases, own head projection per cluster.
    dict(name="div2-untied", vocab_size=500, cutoffs=[50, 100, 300], div_val=2, d_model=48, d_embed=32,
         n_layer=2, n_head=3, d_head=8, d_inner=80, mem_len=5, clamp_len=0, same_length=False,
         tie_projs=[False, False, True, False], untie_r=False, tie_word_embeddings=False, tgt_len=6,
         segments=3, partial=2),
    # div_val 1: one table and one output layer sliced by cluster, projections because d_embed != d_model;
    # memory shorter than the segment.
    dict(name="div1-short-memory", vocab_size=500, cutoffs=[50, 200], div_val=1, d_model=40, d_embed=24,
         n_layer=2, n_head=2, d_head=12, d_inner=64, mem_len=3, clamp_len=2, same_length=True,
         proj_share_all_but_first=True, untie_r=True, tgt_len=7, segments=2, partial=3),
    # No clusters at all (a byte model is this case with 256 words): plain tied softmax, long memory.
    dict(name="no-clusters", vocab_size=300, cutoffs=[], div_val=1, d_model=32, d_embed=32,
         n_layer=2, n_head=2, d_head=16, d_inner=64, mem_len=16, clamp_len=-1, same_length=False,
         proj_share_all_but_first=False, untie_r=True, tgt_len=4, segments=5, partial=1),
]


def fix_issue_29650():
    """transformers 4.36-4.57: TransfoXLModel.forward calls `arange(...).type_as(dtype=...)`, which raises
    (issue 29650). Recompiles forward at run time with 4.35.2's line; the installed file is left as it is."""
    src = textwrap.dedent(inspect.getsource(mtx.TransfoXLModel.forward))
    bad = re.compile(r"dtype=torch\.int64\)\.type_as\(\s*dtype=word_emb\.dtype\s*\)")
    fixed, n = bad.subn("dtype=word_emb.dtype)", src)
    if n == 0:
        if "type_as(" in src and "torch.int64" in src:
            raise SystemExit("make-hf-fixtures: the line of issue 29650 has a form this script does not know")
        return "not needed"
    # The decorators only add docstrings; the new function keeps the class's docstring-free behaviour.
    fixed = fixed[fixed.index("def forward("):]
    scope = {}
    exec(compile(fixed, mtx.__file__, "exec"), vars(mtx), scope)
    mtx.TransfoXLModel.forward = scope["forward"]
    return f"patched {n} line(s) at run time"


def randomize(model, gen):
    """Weights large and varied enough that any wrong mapping changes the log-probabilities visibly."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layer_norm.weight"):
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 1 or name.endswith(("r_w_bias", "r_r_bias")):
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            elif "emb_layers" in name or "out_layers" in name or "cluster_weight" in name:
                # Rows are word vectors: logits (h P) W^T then spread by a few nats whatever the cluster's width.
                p.copy_(2.5 * torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[-1]))
            elif "emb_projs" in name or "out_projs" in name:
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[0]))   # [d_model, d_i]
            else:
                p.copy_(1.5 * torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[-1]))


def make_vocab(size, gen):
    """idx2sym ordered like WikiText-103's (by frequency, <eos> first), with <unk> and ordinary words."""
    words = ["<eos>", "the", ",", ".", "of", "<unk>", "and", "@-@"]
    words += [f"w{i}" for i in range(len(words), size)]
    return words


class MosesTokenizer:
    """Stands in for sacremoses' class, so vocab.pkl pickles an object of a foreign module as the real one does."""

    def __init__(self, lang):
        self.lang = lang


def fake_sacremoses():
    sys.modules.setdefault("sacremoses", types.ModuleType("sacremoses"))
    mod = types.ModuleType("sacremoses.tokenize")
    MosesTokenizer.__module__ = "sacremoses.tokenize"
    mod.MosesTokenizer = MosesTokenizer
    sys.modules["sacremoses.tokenize"] = mod


def write_vocab_pkl(folder, words):
    """The tokenizer's attribute dict, as TransfoXLTokenizer.save_vocabulary pickles it."""
    d = {
        "counter": collections.Counter({w: len(words) - i for i, w in enumerate(words)}),
        "special": ["<eos>"], "min_freq": 0, "max_size": None, "lower_case": False, "delimiter": None,
        "vocab_file": None, "never_split": [], "punctuation_symbols": ['!', ',', '"', "'", '.'],
        "punction_without_space_before_pattern": re.compile(r"[^\s][!,\"'.]"),
        "moses_tokenizer": MosesTokenizer("en"), "language": "en",
        "idx2sym": list(words), "sym2idx": collections.OrderedDict((w, i) for i, w in enumerate(words)),
        "unk_idx": words.index("<unk>"),
    }
    with open(os.path.join(folder, "vocab.pkl"), "wb") as f:
        pickle.dump(d, f)


def sample_text(words, ends, lines, gen):
    """Lines of words drawn cluster by cluster (so every cluster appears), one unknown word, and an empty line."""
    out = []
    for li in range(lines):
        n = int(torch.randint(2, 9, (1,), generator=gen))
        line = []
        for _ in range(n):
            c = int(torch.randint(0, len(ends) - 1, (1,), generator=gen))
            lo = max(ends[c], 1)
            i = int(torch.randint(lo, ends[c + 1], (1,), generator=gen))
            line.append(words[i])
        if li == 1:
            line.insert(1, "never-seen-word")
        out.append(" ".join(line) if li != 2 else "")
    return "\n".join(out) + "\n"


def encode(text, words):
    """Transformer-XL's WikiText-103 tokenizer: whitespace split per line, <eos> at each line end, unknown -> <unk>."""
    index = {w: i for i, w in enumerate(words)}
    ids = []
    for line in text.splitlines():
        ids += [index.get(w, index["<unk>"]) for w in line.split()] + [index["<eos>"]]
    return ids


def make(spec, out_root, seed):
    spec = dict(spec)
    name, segments, partial, tgt_len = spec.pop("name"), spec.pop("segments"), spec.pop("partial"), spec.pop("tgt_len")
    tie_projs = spec.pop("tie_projs", None)
    gen = torch.Generator().manual_seed(seed)
    config = TransfoXLConfig(dropout=0.0, dropatt=0.0, **spec)
    if tie_projs is not None:
        config.tie_projs = tie_projs
    torch.manual_seed(seed)
    model = TransfoXLLMHeadModel(config).eval()
    randomize(model, gen)
    folder = os.path.join(out_root, name)
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    if spec.get("untie_r", True):
        model.save_pretrained(folder, safe_serialization=True)
    else:
        # One r_w_bias shared by every layer: save_pretrained refuses shared tensors in safetensors, so this one
        # goes through pytorch_model.bin and scripts/convert-hf.py, as a user with only that file would.
        model.save_pretrained(folder, safe_serialization=False)
    # The segment length travels as tgt_len, as in the original checkpoints' config.json.
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    cfg["tgt_len"] = tgt_len
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")

    words = make_vocab(spec["vocab_size"], gen)
    write_vocab_pkl(folder, words)
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "convert-hf.py"), folder], check=True)
    os.remove(os.path.join(folder, "vocab.pkl"))
    if os.path.exists(os.path.join(folder, "pytorch_model.bin")):
        os.remove(os.path.join(folder, "pytorch_model.bin"))

    # Two streams whose length is segments x tgt_len + partial inputs (+1 for the last target).
    ends = [0] + list(spec["cutoffs"]) + [spec["vocab_size"]]
    need = segments * tgt_len + partial + 1
    texts, streams = [], []
    for _ in range(2):
        text = ""
        while len(encode(text, words)) < need:
            text += sample_text(words, ends, 4, gen)
        ids = encode(text, words)
        # Cut at a line end at or after `need` tokens would change the count; keep whole text and its ids.
        texts.append(text)
        streams.append(ids[:need])
    inp = torch.tensor(streams)                                   # [B, need]
    bsz, d_model, n_layer = inp.shape[0], spec["d_model"], spec["n_layer"]
    mems = [torch.empty(0, bsz, d_model) for _ in range(n_layer)]  # empty memory, explicitly (None = mem_len zeros)
    logps = []
    with torch.no_grad():
        s = 0
        while s + 1 < need:
            e = min(s + tgt_len, need - 1)
            out = model(input_ids=inp[:, s:e], mems=mems)
            # prediction_scores are log-probabilities over the whole vocabulary (labels=None; log_prob() is wrong).
            lp = out.prediction_scores                            # [B, t, V]
            tgt = inp[:, s + 1:e + 1]
            logps.append(lp.gather(2, tgt.unsqueeze(2)).squeeze(2))
            mems = out.mems
            s = e
    logp = torch.cat(logps, dim=1)                                # [B, need - 1]
    assert torch.isfinite(logp).all()
    expected = {
        "made_by": f"scripts/make-hf-fixtures.py with transformers {transformers.__version__}, "
                   f"torch {torch.__version__}",
        "segment": tgt_len, "segments": segments + (1 if partial else 0), "last_segment": partial or tgt_len,
        "texts": texts,
        "token_ids": streams,
        "log_probs": [[float(x) for x in row] for row in logp.float()],
    }
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    flat = logp.flatten()
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"{name}: {flat.numel()} log-probs, mean {flat.mean():.3f}, std {flat.std():.3f}, "
          f"min {flat.min():.3f}, max {flat.max():.3f}; {size} bytes")


def main():
    out_root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "Fixtures", "hf")
    if transformers.__version__ != "4.57.6":
        print(f"make-hf-fixtures: transformers {transformers.__version__}; the fixtures are made with 4.57.6",
              file=sys.stderr)
    transformers.logging.set_verbosity_error()
    print(f"issue 29650: {fix_issue_29650()}")
    fake_sacremoses()
    torch.set_num_threads(1)
    for i, spec in enumerate(MODELS):
        make(spec, out_root, seed=1000 + i)


if __name__ == "__main__":
    main()
