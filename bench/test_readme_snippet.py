#!/usr/bin/env python3
"""Runs README.md's "Bring your own model" snippet as written, on a reference-style tied model (issue 8, finding 14).

    .venv-bench/bin/python bench/test_readme_snippet.py path/to/memscope      (opt-in: needs torch and safetensors)

The reference MemTransformerLM's state_dict holds `crit.out_layers.0.weight`, the embedding tensor itself (tied), so
`save_file` refuses tensors that share storage unless the snippet copies them. The model here adds that tied entry to
bench/reference_txl.py's model, runs the snippet in a scratch folder, and checks that `memscope info` reads the file.
"""

import os
import re
import subprocess
import sys
import tempfile

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from reference_txl import MemTransformerLM, TXLConfig  # noqa: E402


class TiedReference(MemTransformerLM):
    """The reference's state_dict layout: the output layer's weight is the embedding's own tensor."""

    def state_dict(self, *args, **kwargs):
        sd = super().state_dict(*args, **kwargs)
        sd["crit.out_layers.0.weight"] = sd["word_emb.emb_layers.0.weight"]
        return sd


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", ".build", "release", "memscope")
    readme = open(os.path.join(here, "..", "README.md")).read()
    section = readme.split("## Bring your own model", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    L, H, D, DH, DI, T, M = 2, 2, 16, 8, 32, 8, 16
    model = TiedReference(TXLConfig(n_layer=L, n_head=H, d_model=D, d_head=DH, d_inner=DI, tgt_len=T, mem_lens=[M] * L))
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        exec(compile(snippet, "README.md snippet", "exec"), {"model": model, "L": L, "H": H, "D": D, "DH": DH, "DI": DI,
                                                               "T": T, "M": M})
        r = subprocess.run([binary, "info", "--model", "mine.safetensors"], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"readme snippet: FAIL memscope info: {r.stderr.strip()}")
            return 1
    print("readme snippet: PASS the snippet runs as written and memscope reads its file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
