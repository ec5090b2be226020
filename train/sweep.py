#!/usr/bin/env python3
"""The training sweep of `memscope sweep train`, cell by cell with train/train.py (one torchrun per cell).

    python train/sweep.py --out sweep-dir --placements full,none,last:1,interleaved:2 --lrm 512 --srm 128 \
        --seeds 1,2 --nproc 8 --layers 12 --d-model 512 ... (any train.py flag after --)

Each cell (placement, short-range length, seed) trains a model from scratch with that memory arrangement
(Rae & Razavi 2020, sections 4-5), then is evaluated on the test split at its trained arrangement and with its
long-range layers at --long-factor x lrm. results.json has the layout of `memscope sweep` ({"sweep": settings as
strings, "cells": records with its field names}), so `memscope sweep` draws the same charts from it. Rerunning the
same command continues: finished cells are kept, an interrupted cell resumes from its checkpoint.
"""

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import evaluate_bits, load_safetensors, parse_mem  # noqa: E402
from train import Failure, add_shape_flags, load_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# The settings every cell passes on to train.py under the same flag names (`--d-model` for d_model).
TRAIN_FLAGS = (
    "layers d_model heads d_head d_inner segment batch steps warmup lr min_lr clip dropout dropatt "
    "log_every eval_every eval_bytes save_every"
).split()


def parse_args(argv):
    if "--" in argv:
        i = argv.index("--")
        argv, passthrough = argv[:i], argv[i + 1 :]
    else:
        passthrough = []
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    a = p.add_argument
    a("--out", required=True, help="Folder: sweep.json, results.json, cells/ (checkpoints, models, cards, logs).")
    a("--placements", default="full,none,last:1", help="full, none, first:K, last:K, interleaved:K, comma-separated.")
    a("--lrm", type=int, required=True, help="Long-range memory length of the long layers.")
    a("--srm", default="0", help="Short-range lengths of the other layers, comma-separated (each makes a cell).")
    a("--seeds", default="1", help="Seeds, comma-separated (each makes a cell).")
    a("--cells", help="Explicit ordered cells instead of the grid: PLACEMENT[/srmN][/sN],... e.g. full/s1,last:1/srm16")
    a("--corpus", default="kernel-docs")
    a("--test-offset", type=int, default=0)
    a("--test-bytes", type=int, help="Test bytes to evaluate (default: to the end).")
    a("--long-factor", type=int, default=4)
    add_shape_flags(p)
    a("--batch", type=int, default=16)
    a("--steps", type=int, default=1000)
    a("--warmup", type=int, default=100)
    a("--lr", type=float, default=1e-3)
    a("--min-lr", type=float, default=0.0)
    a("--clip", type=float, default=0.25)
    a("--dropout", type=float, default=0.0)
    a("--dropatt", type=float, default=0.0)
    a("--log-every", type=int, default=50)
    a("--eval-every", type=int, default=500)
    a("--eval-bytes", type=int, default=65536)
    a("--save-every", type=int, default=200)
    a("--nproc", type=int, default=1, help="Processes per cell (torchrun --nproc_per_node).")
    a(
        "--torchrun",
        default="",
        help="Extra torchrun flags for multi-node cells, e.g. '--nnodes 2 --rdzv-endpoint h:29500'",
    )
    args = p.parse_args(argv)
    args.passthrough = passthrough
    return args


def ints(text, flag):
    try:
        values = [int(x) for x in text.split(",")]
    except ValueError:
        raise Failure(f'{flag} "{text}": every item must be a number') from None
    if any(v < 0 for v in values):
        raise Failure(f'{flag} "{text}": lengths and seeds are >= 0')
    return list(dict.fromkeys(values))


def check_placement(p, layers):
    try:
        parse_mem(p if p != "none" else "0", layers, 1, 0)
    except ValueError as e:
        raise Failure(f'placement "{p}": {e}') from None
    if p not in ("full", "none") and (":" not in p or int(p.split(":")[1]) < 1):
        raise Failure(f'placement "{p}": use full, none, first:K, last:K or interleaved:K with K >= 1')


def cells(args):
    """(placement, srm or None, seed) in order, as SweepCell.grid / SweepCell.parseCells make them."""
    srms, seeds = ints(args.srm, "--srm"), ints(args.seeds, "--seeds")
    out = []
    if args.cells:
        for item in args.cells.lower().split(","):
            parts = item.strip().split("/")
            p, srm, seed = parts[0], srms[0], seeds[0]
            for extra in parts[1:]:
                if extra.startswith("srm") and extra[3:].isdigit():
                    srm = int(extra[3:])
                elif extra.startswith("s") and extra[1:].isdigit():
                    seed = int(extra[1:])
                else:
                    raise Failure(f'--cells item "{item}": "{extra}" is neither srmN nor sN (e.g. last:1/srm16/s2)')
            out.append((p, srm, seed))
    else:
        for seed in seeds:
            for p in args.placements.lower().split(","):
                for srm in [srms[0]] if p.strip() == "full" else srms:
                    out.append((p.strip(), srm, seed))
    cleaned = []
    for p, srm, seed in out:
        check_placement(p, args.layers)
        c = (p, None if p == "full" else srm, seed)
        if c not in cleaned:
            cleaned.append(c)
    return cleaned


def memory(p, lrm, srm, layers):
    if p == "full":
        return parse_mem("full", layers, lrm, 0)
    if p == "none":
        return [srm] * layers
    return parse_mem(p, layers, lrm, srm)


def name(p, srm, seed):
    parts = [p.replace(":", "")] + ([f"srm{srm}"] if srm is not None else []) + [f"s{seed}"]
    return "-".join(parts)


FLOATS = ("lr", "min_lr", "clip", "dropout", "dropatt")
INTS = ("layers", "d_model", "heads", "d_head", "d_inner", "segment", "lrm", "batch", "steps", "warmup", "log_every")
INTS += ("eval_every", "eval_bytes", "save_every", "long_factor", "test_offset")


def settings(args, cell_list, data, test_bytes):
    """sweep.json: exactly the keys and string forms of Swift's SweepTrainSettings.dictionary (floats as Swift prints a
    Float), so that `memscope sweep train` with the same flags accepts the folder and redraws its tables and charts."""
    h = {k: str(getattr(args, k)) for k in INTS}
    h.update({k: str(np.float32(getattr(args, k))) for k in FLOATS})
    h.update(kind="train", data=data, test_bytes=str(test_bytes), cells=",".join(name(*c) for c in cell_list))
    # As Swift records them: only when they differ from the defaults.
    if args.pre_lnorm:
        h["pre_lnorm"] = "true"
    if args.same_length:
        h["same_length"] = "true"
    if args.clamp != -1:
        h["clamp"] = str(args.clamp)
    return h


def main(argv):
    args = parse_args(argv)
    try:
        cell_list = cells(args)
        test_raw, manifest = load_split(args.corpus, "test")
        end = len(test_raw) if args.test_bytes is None else args.test_offset + args.test_bytes
        if not 0 <= args.test_offset < end <= len(test_raw) or end - args.test_offset < 2:
            raise Failure(
                f"--test-offset {args.test_offset} / --test-bytes {args.test_bytes} fall outside the test "
                f"split's {len(test_raw)} bytes"
            )
        test = test_raw[args.test_offset : end]
        s = manifest["splits"]
        data = " ".join([args.corpus] + [f"{k} {s[k]['sha256'][:16]}" for k in ("train", "valid", "test")])
        cells_dir = os.path.join(args.out, "cells")
        os.makedirs(cells_dir, exist_ok=True)
        h = settings(args, cell_list, data, len(test))
        sweep_json = os.path.join(args.out, "sweep.json")
        if os.path.exists(sweep_json):
            with open(sweep_json) as f:
                old = json.load(f)
            diff = [k for k in set(h) | set(old) if k != "cells" and old.get(k) != h.get(k)]
            if diff:
                raise Failure(f"{args.out} holds a sweep with other settings ({', '.join(diff)}); use another --out")
        write_json(sweep_json, h)
        header = dict(h, command=" ".join(shlex.quote(x) for x in ["train/sweep.py"] + argv), trainer="train/train.py")
        records = []
        for i, (p, srm, seed) in enumerate(cell_list):
            records.append(run_cell(args, p, srm, seed, cells_dir, test, manifest, f"[{i + 1}/{len(cell_list)}]"))
            write_json(os.path.join(args.out, "results.json"), {"sweep": header, "cells": records})
        print(f"sweep: {len(records)} cells; results in {os.path.join(args.out, 'results.json')}", flush=True)
        return 0
    except Failure as e:
        print(f"sweep.py: error: {e}", file=sys.stderr, flush=True)
        return 1


def run_cell(args, p, srm, seed, cells_dir, test, manifest, tag):
    cell = name(p, srm, seed)
    mem = memory(p, args.lrm, srm or 0, args.layers)
    ckpt, model_path = os.path.join(cells_dir, cell + ".pt"), os.path.join(cells_dir, cell + ".safetensors")
    card_path = os.path.join(cells_dir, cell + ".json")
    if os.path.exists(card_path):
        with open(card_path) as f:
            done = json.load(f)
        if "record" in done:
            print(f"{tag} {cell}: done earlier (test bpc {done['record']['test_bpc']:.4f})", flush=True)
            return done["record"]
    if not os.path.exists(model_path):
        spec = ",".join(str(m) for m in mem)
        flags = [
            "--out",
            ckpt,
            "--export",
            model_path,
            "--card",
            card_path,
            "--corpus",
            args.corpus,
            "--mem",
            spec,
            "--eval-mem",
            spec,
            "--seed",
            str(seed),
        ]
        for k in TRAIN_FLAGS:
            flags += ["--" + k.replace("_", "-"), str(getattr(args, k))]
        flags += ["--clamp", str(args.clamp)] + ["--pre-lnorm"] * args.pre_lnorm + ["--same-length"] * args.same_length
        if os.path.exists(ckpt):
            flags.append("--resume")
        script = os.path.join(HERE, "train.py")
        if args.nproc > 1 or args.torchrun:
            cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={args.nproc}"]
            cmd += shlex.split(args.torchrun) if args.torchrun else ["--standalone"]
            cmd += [script]
        else:
            cmd = [sys.executable, script]
        print(f"{tag} {cell}: training, memory {spec}", flush=True)
        with open(os.path.join(cells_dir, cell + ".log"), "a") as log:
            proc = subprocess.Popen(
                cmd + flags + args.passthrough, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            for line in proc.stdout:
                log.write(line)
                log.flush()
                print(f"{tag} {cell} | {line}", end="", flush=True)
            if proc.wait() != 0:
                raise Failure(
                    f"cell {cell}: train.py exited with status {proc.returncode}; see {log.name}; rerun the "
                    "same command to continue"
                )
    model, _, meta = load_safetensors(model_path)
    model.eval()
    with open(card_path) as f:
        card = json.load(f)
    t0 = time.time()
    text = torch.frombuffer(bytearray(test), dtype=torch.uint8)
    bits, count = evaluate_bits(model, text, mem, args.segment)
    long_mem = memory(p, args.lrm * args.long_factor, srm or 0, args.layers)
    long_bits = bits if long_mem == mem else evaluate_bits(model, text, long_mem, args.segment)[0]
    curve = {}
    for point in card.get("train_curve", []):
        curve.setdefault(point["step"], {"step": point["step"]})["trainBPC"] = point["train_bpc"]
    for point in card.get("validation_curve", []):
        curve.setdefault(point["step"], {"step": point["step"]})["validBPC"] = point["valid_bpc"]
    d = args.d_model
    record = dict(
        name=cell,
        placement=p,
        long_layers={"full": args.layers, "none": 0}.get(p) or int(p.split(":")[1]),
        lrm=args.lrm,
        srm=srm,
        seed=seed,
        memory=mem,
        memory_floats=sum(mem) * d,
        steps=card["training"]["steps"],
        bytes_seen=card["training"]["bytes_seen"],
        train_seconds=card["training"]["seconds"],
        valid_bpc=card["training"]["valid_bpc"],
        test_bpc=bits / count,
        long_lrm=args.lrm * args.long_factor,
        long_memory=long_mem,
        long_memory_floats=sum(long_mem) * d,
        long_test_bpc=long_bits / count,
        test_bytes=len(test),
        test_offset=args.test_offset,
        text_sha256=hashlib.sha256(test).hexdigest(),
        split_sha256=manifest["splits"]["test"]["sha256"],
        eval_seconds=time.time() - t0,
        model=f"cells/{cell}.safetensors",
        curve=[curve[k] for k in sorted(curve)],
    )
    card["record"] = record
    write_json(card_path, card)
    print(
        f"{tag} {cell}: test bpc {record['test_bpc']:.4f}, long layers at {record['long_lrm']}: "
        f"{record['long_test_bpc']:.4f} ({record['eval_seconds']:.1f} s)",
        flush=True,
    )
    return record


def write_json(path, obj):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
