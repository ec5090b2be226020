"""train/train.py end to end on CPU, under torchrun with gloo: one process against two at the same global batch,
export then `memscope eval` equality, exact resume after SIGTERM and after SIGKILL, one-line errors."""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from conftest import MEMSCOPE, TINY_SHAPE, TRAIN
from model import evaluate_bits, load_safetensors

TINY = TINY_SHAPE + [
    "--mem",
    "L0:8,L1:24",
    "--eval-mem",
    "L0:16,L1:48",
    "--batch",
    "4",
    "--lr",
    "3e-3",
    "--warmup",
    "2",
    "--threads",
    "1",
    "--eval-bytes",
    "512",
    "--log-every",
    "1",
]


def command(nproc):
    script = os.path.join(TRAIN, "train.py")
    if nproc == 1:
        return [sys.executable, script]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", script]


def train(args, nproc=1, check=True):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    r = subprocess.run(command(nproc) + args, capture_output=True, text=True, env=env, timeout=600)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


# A fixed paragraph: the test's text must not change when the code does, and its byte statistics must be easy
# enough to learn that four steps lower the loss whatever batch each step draws.
PARAGRAPH = (
    "Transformer-XL keeps a memory of the activations of past segments at every layer, so that a query can attend "
    "to keys far beyond its own segment. Rae and Razavi asked whether every layer needs that long memory, and found "
    "that a few long-range layers, placed in the upper half of the network, do about as well as all of them.\n"
)


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    """About 120 KB of text: one fixed English paragraph, repeated."""
    path = tmp_path_factory.mktemp("text") / "paragraph.txt"
    path.write_bytes((PARAGRAPH * (120_000 // len(PARAGRAPH) + 1)).encode()[:120_000])
    return str(path)


@pytest.fixture(scope="module")
def two_process_run(text, tmp_path_factory):
    d = tmp_path_factory.mktemp("ddp2")
    out, export = str(d / "run.pt"), str(d / "model.safetensors")
    r = train(["--out", out, "--export", export, "--text", text, "--steps", "4", "--eval-every", "4"] + TINY, nproc=2)
    return out, export, r.stdout


def test_one_process_equals_two_processes(text, two_process_run, tmp_path):
    out2, export2, log2 = two_process_run
    out1, export1 = str(tmp_path / "run.pt"), str(tmp_path / "model.safetensors")
    train(["--out", out1, "--export", export1, "--text", text, "--steps", "4", "--eval-every", "4"] + TINY, nproc=1)
    assert "2 processes x 2 streams" in log2
    a, b = load_file(export1), load_file(export2)
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=2e-6, msg=name)
    # The two ranks' stream memories, side by side, are the one process's memories.
    c1 = torch.load(out1, weights_only=True)
    c2 = torch.load(out2, weights_only=True)
    assert c1["state"]["step"] == c2["state"]["step"] == 4
    for layer, m1 in enumerate(c1["ranks"][0]["mems"]):
        m2 = torch.cat([c2["ranks"][0]["mems"][layer], c2["ranks"][1]["mems"][layer]], 0)
        assert m1.shape == (4, [8, 24][layer], 32)
        torch.testing.assert_close(m1, m2, rtol=1e-4, atol=1e-5)
    # Training moved the weights: the loss of the last logged step is below that of the first.
    losses = [float(line.split("| loss ")[1].split()[0]) for line in log2.splitlines() if "| loss " in line]
    assert len(losses) == 4 and losses[-1] < losses[0]


@pytest.mark.skipif(not os.access(MEMSCOPE, os.X_OK), reason=f"no memscope binary at {MEMSCOPE} (make build)")
@pytest.mark.parametrize("mem", [None, "L0:0,L1:40"])
def test_export_then_memscope_eval(two_process_run, text, mem):
    _, export, _ = two_process_run
    model, _, meta = load_safetensors(export)
    model.eval()
    assert json.loads(meta["txl_config"])["eval_mem_lens"] == [16, 48]
    with open(text, "rb") as f:
        sample = f.read()[-6000:]
    sample_path = export + ".txt"
    with open(sample_path, "wb") as f:
        f.write(sample)
    lens = model.cfg.eval_mem_lens if mem is None else [0, 40]
    bits, count = evaluate_bits(model, torch.frombuffer(bytearray(sample), dtype=torch.uint8), lens, model.cfg.tgt_len)
    cmd = [MEMSCOPE, "eval", "--model", export, "--text", sample_path, "--json", "--threads", "1"]
    r = subprocess.run(cmd + (["--mem", mem] if mem else []), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["bytes"] == count and got["memory"] == lens
    assert abs(got["bpc"] - bits / count) <= 1e-4, (got["bpc"], bits / count)


def descendants(pid):
    """Every process below pid (torchrun starts its workers in sessions of their own)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def run_until(args, nproc, marker, sig):
    """Starts a run, and once `marker` appears in its output sends `sig` to torchrun (SIGTERM: it passes the signal
    to its workers) or to torchrun and every worker at once (SIGKILL: a crash)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    p = subprocess.Popen(command(nproc) + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    for line in p.stdout:
        lines.append(line)
        if marker in line:
            for pid in [p.pid] + (descendants(p.pid) if sig == signal.SIGKILL else []):
                os.kill(pid, sig)
            break
    rest, _ = p.communicate(timeout=120)
    return p.returncode, "".join(lines) + rest


def test_exact_resume_after_sigterm_and_kill(text, tmp_path):
    args = [
        "--text",
        text,
        "--steps",
        "40",
        "--save-every",
        "3",
        "--eval-every",
        "20",
        "--dropout",
        "0.1",
        "--dropatt",
        "0.1",
    ] + TINY
    whole = str(tmp_path / "whole.pt")
    train(["--out", whole, "--export", whole + ".safetensors"] + args, nproc=2)

    part = str(tmp_path / "part.pt")
    rc, log = run_until(["--out", part] + args, 2, "step 5/40", signal.SIGTERM)
    assert "stopped at step" in log, log
    first = torch.load(part, weights_only=True)["state"]["step"]
    assert 5 <= first < 40
    rc, log = run_until(["--out", part, "--resume"] + args, 2, "saved", signal.SIGKILL)
    assert rc != 0
    second = torch.load(part, weights_only=True)["state"]["step"]
    assert first < second < 40, log
    train(["--out", part, "--resume", "--export", part + ".safetensors"] + args, nproc=2)

    a, b = load_file(whole + ".safetensors"), load_file(part + ".safetensors")
    for name in a:
        assert torch.equal(a[name], b[name]), name
    ca, cb = torch.load(whole, weights_only=True), torch.load(part, weights_only=True)
    for ra, rb in zip(ca["ranks"], cb["ranks"]):
        assert all(torch.equal(x, y) for x, y in zip(ra["mems"], rb["mems"]))
    assert ca["state"]["curve"] == cb["state"]["curve"]
    assert [r["step"] for r in cb["state"]["resumed"]] == [first, second]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--mem", "1,2,3"], "gives 3 lengths but the model has 2 layers"),
        (["--batch", "100000"], "--batch 100000 is out of range"),
        (["--resume"], "no checkpoint at"),
        (["--lr", "2"], "--lr 2.0 is out of range"),
    ],
)
def test_bad_input_gives_one_line(text, tmp_path, extra, message):
    args = ["--out", str(tmp_path / "x.pt"), "--text", text] + TINY + extra
    r = train(args, check=False)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
