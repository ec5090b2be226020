"""train/model.py against the reference fixtures (../shared/fixtures): every log-prob within 1e-4 nats and every
grad.* within 1e-3 relative error, the tolerances of the fixtures' README."""

import glob
import os

import pytest
import torch
import torch.nn.functional as F

from conftest import FIXTURES
from model import TransformerXL, TXLConfig, load_safetensors, parse_mem, rel_shift

PATHS = sorted(glob.glob(os.path.join(FIXTURES, "*.safetensors")))


@pytest.mark.skipif(not PATHS, reason=f"no fixtures in {FIXTURES} (set MEMSCOPE_FIXTURES)")
@pytest.mark.parametrize("path", PATHS, ids=os.path.basename)
def test_fixture_logprobs_and_grads(path):
    model, extra, _ = load_safetensors(path)
    model.eval()
    cfg = model.cfg
    data = extra["fixture.input_bytes"].long().t()  # [batch, time]
    expected = extra["fixture.expected_logprob"].t()  # [batch, time-1]
    T = cfg.tgt_len
    segments = (data.size(1) - 1) // T
    mems = model.init_mems(data.size(0))
    got, loss = [], None
    for s in range(segments):
        last = s == segments - 1
        with torch.set_grad_enabled(last):
            logits, mems = model(data[:, s * T : (s + 1) * T], mems)
            lp = F.log_softmax(logits, -1).gather(-1, data[:, s * T + 1 : (s + 1) * T + 1, None]).squeeze(-1)
        got.append(lp.detach())
        if last:
            loss = -lp.mean()
    got = torch.cat(got, 1)
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-4
    loss.backward()
    assert abs(loss.item() - extra["grad.loss"].item()) < 1e-4
    grads = {k[5:]: v for k, v in extra.items() if k.startswith("grad.") and k != "grad.loss"}
    params = dict(model.named_parameters())
    assert set(grads) == set(params), "every parameter has a reference gradient"
    for name, ref in grads.items():
        rel = ((params[name].grad - ref.float()).norm() / ref.float().norm()).item()
        assert rel < 1e-3, f"{name}: relative error {rel:.2e}"


def test_rel_shift_by_hand():
    # Row i of a [T, K] score matrix by distance column (distance K-1-c) moves to key column j = c + (T-1-i)...
    # so that query i at position K-T+i reads distance (K-T+i) - j at key j.
    T, K = 3, 5
    dist = torch.arange(K - 1, -1, -1.0).expand(T, K)  # column c holds distance K-1-c
    shifted = rel_shift(dist)
    for i in range(T):
        for j in range(K - T + i + 1):  # the visible keys
            assert shifted[i, j].item() == (K - T + i) - j


def test_segments_with_memory_equal_one_long_pass():
    torch.manual_seed(0)
    cfg = TXLConfig(n_layer=2, n_head=2, d_model=16, d_head=8, d_inner=32, tgt_len=4, mem_lens=[8, 8])
    model = TransformerXL(cfg).eval()
    model.init_weights()
    x = torch.randint(0, 256, (2, 8))
    mems = model.init_mems(2)
    a, mems = model(x[:, :4], mems)
    b, _ = model(x[:, 4:], mems)
    whole, _ = model(x, model.init_mems(2), mem_lens=[8, 8])
    torch.testing.assert_close(torch.cat([a, b], 1), whole, rtol=1e-5, atol=1e-5)


def test_mem_grammar():
    assert parse_mem("64", 4, 512, 128) == [64] * 4
    assert parse_mem("1,2,3,4", 4, 512, 128) == [1, 2, 3, 4]
    assert parse_mem("L0-1:64,L2-3:512", 4, 512, 128) == [64, 64, 512, 512]
    assert parse_mem("full", 3, 512, 128) == [512] * 3
    assert parse_mem("none", 3, 512, 128) == [0] * 3
    assert parse_mem("first:1", 3, 512, 128) == [512, 128, 128]
    assert parse_mem("last:2", 3, 512, 128) == [128, 512, 512]
    assert parse_mem("interleaved:2", 8, 512, 64) == [64, 64, 64, 512, 64, 64, 64, 512]
    for bad in ("", "1,2", "L0:1", "L0-9:1,L1-3:4", "middle:1", "last:9", "-1", "x"):
        with pytest.raises(ValueError):
            parse_mem(bad, 4, 512, 128)
