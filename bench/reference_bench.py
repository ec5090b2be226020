#!/usr/bin/env python3
"""Throughput of the reference Transformer-XL computation in PyTorch CPU eager (bytes/s).

    python bench/reference_bench.py --mode eval --batch 1 --threads 2 [--json]
    python bench/reference_bench.py --mode train --batch 8 --threads 2 [--json]

Random weights, random bytes. `eval`: no_grad, segment after segment with memories carried, the
tied output layer and log-softmax included; a warm-up first fills every layer's memory; bytes/s =
batch * segment * segments / seconds. `train`: one step = forward of one segment at the given
batch (memories carried, detached), mean NLL, backward, gradient-norm clip 0.25 and an Adam step,
as the reference's train.py does; bytes/s = batch * segment * steps / seconds.
The model recomputes memory keys/values and position projections each segment, as the
reference does (see reference_txl.py).
"""

import argparse
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_txl import MemTransformerLM, TXLConfig  # noqa: E402


def cpu_busy_seconds():
    """Seconds of CPU the whole machine spent busy (all cores, from /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)   # idle + iowait
        busy = sum(fields[:8]) - idle                               # excludes guest (already in user)
        return busy / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def parse_mem(text: str, layers: int):
    parts = [int(p) for p in text.split(",")]
    if len(parts) == 1:
        parts = parts * layers
    if len(parts) != layers or any(p < 0 for p in parts):
        raise SystemExit(f"reference_bench: --mem {text!r} needs one length or {layers} lengths >= 0")
    return parts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["eval", "train"], default="eval")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-head", type=int, default=64)
    ap.add_argument("--d-inner", type=int, default=1024)
    ap.add_argument("--segment", type=int, default=128)
    ap.add_argument("--mem", default="512", help="N (every layer) or N1,N2,... (one per layer)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=20.0, help="timed duration after the warm-up")
    ap.add_argument("--dropout", type=float, default=0.0, help="train mode only (eval has none)")
    ap.add_argument("--dropatt", type=float, default=0.0, help="train mode only")
    ap.add_argument("--lr", type=float, default=2.5e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="also print one JSON object per measurement")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    mem_lens = parse_mem(args.mem, args.layers)
    cfg = TXLConfig(n_layer=args.layers, n_head=args.heads, d_model=args.d_model, d_head=args.d_head,
                    d_inner=args.d_inner, tgt_len=args.segment, mem_lens=mem_lens)
    train = args.mode == "train"
    model = MemTransformerLM(cfg, dropout=args.dropout if train else 0.0, dropatt=args.dropatt if train else 0.0)
    model.init_weights()
    model.train(train)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr) if train else None

    B, T = args.batch, args.segment
    stream = torch.randint(0, 256, (T * 64 + 1, B))
    pos = 0

    def next_segment():
        nonlocal pos
        if pos + T + 1 > stream.size(0):
            pos = 0
        inp, tgt = stream[pos:pos + T], stream[pos + 1:pos + T + 1]
        pos += T
        return inp, tgt

    mems = model.init_mems(B)

    def step():
        nonlocal mems
        inp, tgt = next_segment()
        if train:
            lp, mems = model.target_log_prob(inp, tgt, mems)
            loss = -lp.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            opt.step()
        else:
            with torch.no_grad():
                lp, mems = model.target_log_prob(inp, tgt, mems)
                lp.sum().item()

    # Warm-up: fill the deepest memory, then one more segment at full length (two at least).
    warm = math.ceil(max(mem_lens) / T) + 1 if max(mem_lens) > 0 else 2
    for _ in range(max(2, warm)):
        step()

    load_before = os.getloadavg()[0]
    busy_before, own_before = cpu_busy_seconds(), time.process_time()
    steps = 0
    start = time.perf_counter()
    best = float("inf")  # the fastest single step: the least disturbed by other processes
    while True:
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        best = min(best, t1 - t0)
        steps += 1
        elapsed = t1 - start
        if elapsed >= args.seconds:
            break
    load_after = os.getloadavg()[0]
    busy_after, own_after = cpu_busy_seconds(), time.process_time()
    # Cores' worth of CPU that other processes used while we were timed (0 = a quiet machine).
    others = None
    if busy_before is not None and busy_after is not None:
        others = max(0.0, ((busy_after - busy_before) - (own_after - own_before)) / elapsed)
    nbytes = B * T * steps
    rate = nbytes / elapsed

    mem_text = str(mem_lens[0]) if len(set(mem_lens)) == 1 else ",".join(map(str, mem_lens))
    extra = f"  dropout {args.dropout}" if train and (args.dropout or args.dropatt) else ""
    print(f"pytorch {args.mode:5s} batch {B}  segment {T}  mem {mem_text}  threads {args.threads}{extra}: "
          f"{rate:.1f} bytes/s  ({steps} {'steps' if train else 'segments'} in {elapsed:.1f} s, "
          f"fastest {B * T / best:.1f} bytes/s, "
          f"load {load_before:.2f}->{load_after:.2f}"
          + (f", other processes {others:.2f} cores" if others is not None else "") + ")", flush=True)
    if args.json:
        print(json.dumps({
            "impl": "pytorch", "mode": args.mode, "batch": B, "segment": T, "memory": mem_lens,
            "layers": args.layers, "d_model": args.d_model, "heads": args.heads, "d_head": args.d_head,
            "d_inner": args.d_inner, "threads": args.threads, "dropout": args.dropout if train else 0.0,
            "steps": steps, "bytes": nbytes, "seconds": round(elapsed, 3), "bytes_per_second": round(rate, 1),
            "fastest_step_bytes_per_second": round(B * T / best, 1),
            "params": sum(p.numel() for p in model.parameters()), "torch": torch.__version__,
            "loadavg_1m": [round(load_before, 2), round(load_after, 2)],
            "other_processes_cores": None if others is None else round(others, 2),
        }), flush=True)


if __name__ == "__main__":
    main()
