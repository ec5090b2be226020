#!/usr/bin/env python3
"""Checks bench/reference_txl.py against the parity fixtures (log-probs and gradients).

    python bench/check_fixtures.py [FIXTURE.safetensors ...]   (default: ../shared/fixtures/*.safetensors)

Runs each file segment by segment with memories carried (never reset) and compares every
log-prob with `fixture.expected_logprob` (max |delta| < 1e-4 nats), then, with loss = mean NLL
over the last segment and the memories from earlier segments held constant, every `grad.NAME`
(||g - g_ref|| / ||g_ref|| < 1e-3). One line per file; exit status 1 on any mismatch.
"""

import glob
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_txl import load_safetensors  # noqa: E402

LOGPROB_TOL = 1e-4
GRAD_TOL = 1e-3


def check(path: str) -> bool:
    model, cfg, extra = load_safetensors(path)
    model.eval()
    data = extra["fixture.input_bytes"].long()        # [time, batch]
    expected = extra["fixture.expected_logprob"]      # [time-1, batch]
    steps, bsz = data.size(0) - 1, data.size(1)
    segments = steps // cfg.tgt_len

    mems = model.init_mems(bsz)
    got = []
    loss = None
    for s in range(segments):
        inp = data[s * cfg.tgt_len:(s + 1) * cfg.tgt_len]
        tgt = data[s * cfg.tgt_len + 1:(s + 1) * cfg.tgt_len + 1]
        last = s == segments - 1
        with torch.set_grad_enabled(last):
            lp, mems = model.target_log_prob(inp, tgt, mems)  # mems come back detached
        got.append(lp.detach())
        if last:
            loss = -lp.mean()
    got = torch.cat(got, 0)
    lp_delta = (got - expected[:got.size(0)]).abs().max().item()
    ok = got.size(0) == expected.size(0) and lp_delta < LOGPROB_TOL

    grad_names = [k[len("grad."):] for k in extra if k.startswith("grad.") and k != "grad.loss"]
    worst_name, worst = "-", 0.0
    if grad_names:
        model.zero_grad()
        loss.backward()
        params = dict(model.named_parameters())
        for name in grad_names:
            ref = extra["grad." + name].float()
            g = params[name].grad if name in params else None
            if g is None:
                rel = float("inf")
            else:
                rel = ((g - ref).norm() / ref.norm().clamp_min(1e-30)).item()
            if rel > worst or rel != rel:
                worst_name, worst = name, rel
        if "grad.loss" in extra:
            loss_delta = abs(loss.item() - extra["grad.loss"].item())
            ok = ok and loss_delta < LOGPROB_TOL
        ok = ok and worst < GRAD_TOL and len(grad_names) == len(list(model.parameters()))

    status = "ok" if ok else "MISMATCH"
    print(f"{status:8s} {os.path.basename(path)}: max |dlogprob| {lp_delta:.2e} over {got.numel()} positions; "
          f"{len(grad_names)} grads, worst rel err {worst:.2e} ({worst_name})", flush=True)
    return ok


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    folder = os.environ.get("MEMSCOPE_FIXTURES", os.path.join(here, "..", "..", "shared", "fixtures"))
    paths = argv[1:] or sorted(glob.glob(os.path.join(folder, "*.safetensors")))
    if not paths:
        print(f"check_fixtures: no fixtures in {folder} (pass files or set MEMSCOPE_FIXTURES)")
        return 1
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    results = [check(p) for p in paths]
    print(f"check_fixtures: {sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
