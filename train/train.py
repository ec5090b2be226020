#!/usr/bin/env python3
"""`memscope train` at scale: the same model, flags, schedule and data on PyTorch DistributedDataParallel.

    python train/train.py --out run.pt --steps 100 ...                       (one process)
    torchrun --standalone --nproc_per_node N train/train.py --out run.pt ...  (N processes: gloo on CPU, NCCL on GPU)

The text is cut into --batch contiguous streams; rank r of W trains streams r*B/W ... (r+1)*B/W - 1, each with its own
memory, so the global batch and the data order do not depend on W. Checkpoints (rank 0, atomic) hold the model, Adam,
every rank's memories, data position and random state: --resume continues exactly at the same world size. SIGTERM,
SIGINT and SIGHUP save and exit with 128 + the signal's number. Reference: Sources/Training/Trainer.swift and the
reference train.py.
"""

import argparse
import datetime
import hashlib
import inspect
import json
import math
import os
import platform
import shlex
import signal
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import TransformerXL, TXLConfig, compact_mem, evaluate_bits, parse_mem, save_safetensors  # noqa: E402

CHECKPOINT_FORMAT = "memscope-torch-checkpoint-1"
# Settings a checkpoint keeps; --resume uses the saved ones (only --steps may change, as in `memscope train`).
SETTINGS = (
    "text",
    "corpus",
    "layers",
    "d_model",
    "heads",
    "d_head",
    "d_inner",
    "pre_lnorm",
    "same_length",
    "clamp",
    "segment",
    "mem",
    "lrm",
    "srm",
    "eval_mem",
    "batch",
    "steps",
    "lr",
    "warmup",
    "min_lr",
    "clip",
    "dropout",
    "dropatt",
    "seed",
    "log_every",
    "eval_every",
    "eval_bytes",
    "save_every",
)
PEAK_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12}  # dense bf16 tensor-core peaks (vendor figures)


class Failure(Exception):
    """Bad input or a run that cannot go on: one line on stderr and exit status 1."""


def add_shape_flags(p):
    """The model-shape flags, shared with sweep.py (the names and defaults of `memscope train`)."""
    for flag, default in (("layers", 6), ("d-model", 256), ("heads", 4), ("d-head", 64), ("d-inner", 1024)):
        p.add_argument("--" + flag, type=int, default=default)
    p.add_argument("--segment", type=int, default=128)
    p.add_argument("--pre-lnorm", action="store_true", help="Layer norm before each block instead of after.")
    p.add_argument(
        "--same-length", action="store_true", help="Every query sees exactly its layer's memory length of keys."
    )
    p.add_argument("--clamp", type=int, default=-1, help="Clamp relative distances at N (-1 = off).")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    a = p.add_argument
    a("--out", required=True, help="Checkpoint to write (and to continue from with --resume), a .pt file.")
    a("--resume", action="store_true", help="Continue the run saved in --out exactly (same world size).")
    a("--export", help="When the run finishes, also write the model alone as MemScope safetensors to this file.")
    a("--export-dtype", default="float32", choices=["float32", "float16", "bfloat16"], help="Weights of --export.")
    a("--card", help="Model card JSON for --export (default: the export path with .json).")
    a("--text", help="Train on this text file (its last 5%% is the validation text) instead of the prepared corpus.")
    a("--corpus", default="kernel-docs", help="Prepared corpus in the data folder (see `memscope data prepare`).")
    add_shape_flags(p)
    a(
        "--mem",
        help="Training memory: N | N1,N2,... | L0-3:64,L4-5:512 | full | none | first:K | ... (default: segment)",
    )
    a("--lrm", type=int, help="Long-range length for full and placements (default: 4 x segment).")
    a("--srm", type=int, help="Short-range length for placements (default: the segment length).")
    a(
        "--eval-mem",
        default="full",
        help="Default evaluation memory stored in the model (default: full, at 4 x segment).",
    )
    a("--batch", type=int, default=16, help="Parallel streams per step, all ranks together (the global batch).")
    a("--steps", type=int, help="Optimiser steps (default 1000; with --resume, the saved number).")
    a("--lr", type=float, default=1e-3)
    a("--warmup", type=int, default=100)
    a("--min-lr", type=float, default=0.0)
    a("--clip", type=float, default=0.25, help="Gradient-norm clipping (0 = off).")
    a("--dropout", type=float, default=0.0)
    a("--dropatt", type=float, default=0.0)
    a("--seed", type=int, default=1)
    a("--threads", type=int, help="CPU threads per process (default: the cores divided among local processes).")
    a("--log-every", type=int, default=50)
    a("--eval-every", type=int, default=500)
    a("--eval-bytes", type=int, default=65536)
    a("--save-every", type=int, default=200)
    a("--device", default="auto", choices=["auto", "cpu", "cuda"])
    a("--precision", default="auto", choices=["auto", "fp32", "bf16"], help="auto: bf16 autocast on GPU, fp32 on CPU.")
    a("--time-budget", type=float, help="Seconds of training: after --probe-steps, --steps is set to what fits.")
    a("--probe-steps", type=int, default=20, help="Steps timed for --time-budget (the first 5 are not counted).")
    a("--test-eval", action="store_true", help="At the end, bpc of the test split (corpus only) in the card.")
    a("--test-bytes", type=int, help="With --test-eval: the first N bytes of the test split (default: all).")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------------------- data


def data_folder():
    """$MEMSCOPE_DATA, else $XDG_CACHE_HOME/memscope, else ~/.cache/memscope (Sources/Corpus/DataFolder.swift)."""
    if os.environ.get("MEMSCOPE_DATA"):
        return os.environ["MEMSCOPE_DATA"]
    if os.environ.get("XDG_CACHE_HOME"):
        return os.path.join(os.environ["XDG_CACHE_HOME"], "memscope")
    return os.path.join(os.path.expanduser("~"), ".cache", "memscope")


def load_split(corpus, split):
    """(bytes, manifest) of a prepared split, checked against the manifest's size and SHA-256."""
    folder = os.path.join(data_folder(), corpus)
    path = os.path.join(folder, "manifest.json")
    if not os.path.exists(path):
        raise Failure(f"corpus {corpus} is not prepared in {data_folder()}; run `memscope data prepare`")
    with open(path) as f:
        manifest = json.load(f)
    info = manifest["splits"][split]
    with open(os.path.join(folder, info["file"]), "rb") as f:
        raw = f.read()
    if len(raw) != info["bytes"] or hashlib.sha256(raw).hexdigest() != info["sha256"]:
        raise Failure(f"{corpus} {split} split in {folder} does not match its manifest; prepare it again")
    return raw, manifest


def load_data(args):
    """(train bytes, valid bytes, description, manifest or None), as `memscope train` reads them."""
    if args.text:
        try:
            with open(args.text, "rb") as f:
                raw = f.read()
        except OSError as e:
            raise Failure(f"--text {args.text}: {e.strerror}") from None
        cut = len(raw) * 95 // 100
        if cut < 2 or len(raw) - cut < 2:
            raise Failure(f"--text {args.text}: {len(raw)} bytes is too small to train on")
        return raw[:cut], raw[cut:], f"text {args.text} (first 95% train, last 5% valid)", None
    train, manifest = load_split(args.corpus, "train")
    valid, _ = load_split(args.corpus, "valid")
    s = manifest["splits"]
    return train, valid, f"{args.corpus} train {s['train']['sha256'][:16]} valid {s['valid']['sha256'][:16]}", manifest


def as_tensor(raw: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8)


# ------------------------------------------------------------------------------------------------------ schedule


def rate(args, step):
    """Learning rate for step s (1-based): linear warm-up, then cosine to --min-lr (Sources/Training/Adam.swift)."""
    if step <= args.warmup:
        return args.lr * step / max(args.warmup, 1)
    progress = min((step - args.warmup) / max(args.steps - args.warmup, 1), 1.0)
    return args.min_lr + (args.lr - args.min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def validate(args, cfg, train_bytes, world):
    def bad(s):
        raise Failure(s)

    if not 1 <= args.batch <= 65536:
        bad(f"--batch {args.batch} is out of range 1...65536")
    if args.batch % world:
        bad(f"--batch {args.batch} does not divide among {world} processes; give a multiple of {world}")
    if not 1 <= args.segment <= 8192:
        bad(f"--segment {args.segment} is out of range 1...8192")
    if args.steps < 1:
        bad(f"--steps {args.steps}: nothing to train; give at least 1")
    if not 0 < args.lr < 1:
        bad(f"--lr {args.lr} is out of range (0, 1)")
    if not 0 <= args.warmup <= args.steps:
        bad(f"--warmup {args.warmup} must be within 0...{args.steps} steps")
    if args.clip < 0:
        bad(f"--clip {args.clip} must be >= 0 (0 = off)")
    if not (0 <= args.dropout < 1 and 0 <= args.dropatt < 1):
        bad(f"--dropout {args.dropout} / --dropatt {args.dropatt} must be in [0, 1)")
    if min(args.log_every, args.eval_every, args.save_every) < 1 or args.eval_bytes < 2:
        bad("--log-every, --eval-every, --save-every must be >= 1 and --eval-bytes >= 2")
    if args.threads is not None and not 1 <= args.threads <= 256:
        bad(f"--threads {args.threads} is out of range 1...256")
    if args.time_budget is not None and not (args.time_budget > 0 and 6 <= args.probe_steps <= args.warmup):
        bad("--time-budget needs a positive budget and 6 <= --probe-steps <= --warmup (the schedule is set in warm-up)")
    if args.test_bytes is not None and args.test_bytes < 2:
        bad(f"--test-bytes {args.test_bytes}: bpc needs at least 2 bytes")
    if train_bytes // args.batch < args.segment + 1:
        bad(
            f"the training text ({train_bytes} bytes) is too short for --batch {args.batch} x --segment "
            f"{args.segment}: each stream needs at least {args.segment + 1} bytes"
        )


# ------------------------------------------------------------------------------------------------------ the run


class Run:
    def __init__(self, args, argv):
        self.args, self.argv = args, argv
        self.distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
        self.rank = int(os.environ.get("RANK", 0))
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        local_rank, local_world = int(os.environ.get("LOCAL_RANK", 0)), int(os.environ.get("LOCAL_WORLD_SIZE", 1))
        cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
        if cuda and not torch.cuda.is_available():
            raise Failure("--device cuda: no GPU is visible to PyTorch")
        self.device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
        if cuda:
            torch.cuda.set_device(self.device)
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        threads = args.threads or max(1, (os.cpu_count() or 1) // local_world)
        torch.set_num_threads(threads)
        self.bf16 = args.precision == "bf16" or (args.precision == "auto" and cuda)
        if self.distributed:
            dist.init_process_group("nccl" if cuda else "gloo")
        self.stop = 0  # the signal that asked to stop, 0 while none has
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self.on_signal)

    def on_signal(self, signum, frame):
        self.stop = signum

    def log(self, line):
        if self.rank == 0:
            print(line, flush=True)

    def all_max(self, value: float) -> float:
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return t.item()

    def all_mean(self, value: float) -> float:
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.item() / self.world

    def barrier(self):
        if self.distributed:
            dist.barrier()

    # --- setup

    def setup(self):
        args = self.args
        checkpoint = None
        if args.resume:
            if not os.path.exists(args.out):
                raise Failure(f"--resume: no checkpoint at {args.out} to continue")
            try:
                checkpoint = torch.load(args.out, map_location="cpu", weights_only=True)
            except Exception as e:  # a damaged or foreign file
                raise Failure(f"{args.out}: not a readable checkpoint ({type(e).__name__})") from None
            if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
                raise Failure(f"{args.out}: not a train.py checkpoint")
            if checkpoint["world_size"] != self.world:
                raise Failure(
                    f"{args.out} was written by {checkpoint['world_size']} processes; resume with the same "
                    f"number (now {self.world})"
                )
            steps = args.steps
            for k, v in checkpoint["settings"].items():
                setattr(args, k, v)
            args.steps = steps or args.steps
        else:
            if os.path.exists(args.out):
                raise Failure(f"--out {args.out} already exists; pass --resume to continue it or choose another path")
            folder = os.path.dirname(os.path.abspath(args.out))
            if not os.access(folder, os.W_OK):
                raise Failure(f"--out {args.out}: the folder {folder} does not exist or is not writable")
            args.steps = args.steps or 1000
        train, valid, self.source, self.manifest = load_data(args)
        try:
            # memscope train's defaults: --mem the segment length, --lrm 4 x segment, --srm the segment length.
            long = args.lrm if args.lrm is not None else 4 * args.segment
            short = args.srm if args.srm is not None else args.segment
            self.memory = parse_mem(args.mem or str(args.segment), args.layers, long, short)
            eval_mem = parse_mem(args.eval_mem, args.layers, 4 * args.segment, short)
            cfg = TXLConfig(
                n_layer=args.layers,
                n_head=args.heads,
                d_model=args.d_model,
                d_head=args.d_head,
                d_inner=args.d_inner,
                tgt_len=args.segment,
                mem_lens=self.memory,
                same_length=args.same_length,
                clamp_len=args.clamp,
                pre_lnorm=args.pre_lnorm,
                eval_mem_lens=eval_mem,
            )
            cfg.validate()
        except ValueError as e:
            raise Failure(str(e)) from None
        validate(args, cfg, len(train), self.world)

        torch.manual_seed(args.seed)
        self.model = TransformerXL(cfg, args.dropout, args.dropatt)
        self.model.init_weights()
        self.model.to(self.device)
        torch.manual_seed(args.seed * 1000 + 1 + self.rank)  # dropout: each rank its own numbers
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=rate(args, 1), betas=(0.9, 0.999), eps=1e-8)

        # Rank r's streams: r*Br ... (r+1)*Br - 1 of the B global ones, each L bytes long.
        self.train = as_tensor(train).to(self.device)
        self.valid = as_tensor(valid)
        self.Br = args.batch // self.world
        self.L = len(train) // args.batch
        first = self.rank * self.Br
        self.starts = (torch.arange(first, first + self.Br, device=self.device) * self.L)[:, None]
        self.mems = self.model.init_mems(self.Br, self.device)
        self.state = dict(
            step=0,
            epoch=0,
            position=0,
            bytes_seen=0,
            seconds=0.0,
            last_valid_bpc=None,
            curve=[],
            train_curve=[],
            resumed=[],
            command=self.command(),
            started=now(),
        )
        if checkpoint is not None:
            self.model.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
            mine = checkpoint["ranks"][self.rank]
            self.mems = [m.to(self.device) for m in mine["mems"]]
            torch.set_rng_state(mine["rng_cpu"])
            if self.device.type == "cuda" and mine["rng_cuda"] is not None:
                torch.cuda.set_rng_state(mine["rng_cuda"])
            self.state = dict(checkpoint["state"])
            self.state["position"], self.state["epoch"] = mine["position"], mine["epoch"]
            self.state["resumed"] = self.state["resumed"] + [
                dict(step=self.state["step"], at=now(), command=self.command())
            ]
        self.net = self.model
        if self.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            ddp = torch.nn.parallel.DistributedDataParallel
            # The one buffer (inv_freq) is the same everywhere: no broadcast before each forward.
            quiet = "forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(ddp).parameters else None
            self.net = ddp(self.model, device_ids=ids, **{quiet or "broadcast_buffers": False})

        c = cfg
        self.log(
            f"model: {c.n_layer} layers, d_model {c.d_model}, {c.n_head} heads x {c.d_head}, d_inner "
            f"{c.d_inner}, {sum(p.numel() for p in self.model.parameters())} parameters"
        )
        self.log(
            f"memory: train {compact_mem(self.memory)}, eval default {compact_mem(eval_mem)}; segment "
            f"{args.segment}, batch {args.batch} ({self.world} process{'es' if self.world > 1 else ''} x "
            f"{self.Br} streams)"
        )
        self.log(f"data: {self.source}; {len(train)} train bytes, {len(valid)} valid bytes")
        self.log(
            f"device: {self.hardware()}; {'bf16 autocast' if self.bf16 else 'fp32'}, "
            f"{torch.get_num_threads()} CPU threads per process"
        )
        if checkpoint is not None:
            self.log(f"resuming at step {self.state['step']} of {args.steps}")

    def command(self):
        return " ".join(shlex.quote(a) for a in ["train/train.py"] + self.argv)

    def hardware(self):
        if self.device.type == "cuda":
            return f"{self.world} x {torch.cuda.get_device_name(self.device)}"
        cpu = platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
        except OSError:
            pass
        return f"{self.world} x CPU process ({cpu}, {os.cpu_count()} cores)"

    # --- the loop

    def next_batch(self):
        T, st = self.args.segment, self.state
        if st["position"] + T + 1 > self.L:
            st["position"], st["epoch"] = 0, st["epoch"] + 1
            self.mems = self.model.init_mems(self.Br, self.device)
        idx = self.train[self.starts + st["position"] + torch.arange(T + 1, device=self.device)].long()
        st["position"] += T
        return idx[:, :-1], idx[:, 1:]

    def step(self):
        x, y = self.next_batch()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            logits, self.mems = self.net(x, self.mems)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.args.clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.args.clip)
        self.state["step"] += 1
        for group in self.optimizer.param_groups:
            group["lr"] = rate(self.args, self.state["step"])
        self.optimizer.step()
        self.state["bytes_seen"] += self.args.batch * self.args.segment
        return loss.detach()

    def validate_bpc(self):
        """bpc on the first --eval-bytes of the validation text, training memory, batch 1, no dropout (rank 0)."""
        n = min(self.args.eval_bytes, self.valid.numel())
        self.model.eval()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            bits, count = evaluate_bits(self.model, self.valid[:n], self.memory, self.args.segment)
        self.model.train()
        return bits / count

    def save(self):
        """Every rank hands rank 0 its memories, data position and random state; rank 0 writes atomically."""
        mine = dict(
            mems=[m.cpu() for m in self.mems],
            rng_cpu=torch.get_rng_state(),
            rng_cuda=torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
            position=self.state["position"],
            epoch=self.state["epoch"],
        )
        ranks = [mine]
        if self.distributed:
            ranks = [None] * self.world
            dist.all_gather_object(ranks, mine)
        if self.rank == 0:
            blob = dict(
                format=CHECKPOINT_FORMAT,
                world_size=self.world,
                config=self.model.cfg.to_json(),
                settings={k: getattr(self.args, k) for k in SETTINGS},
                state=self.state,
                model=self.model.state_dict(),
                optimizer=self.optimizer.state_dict(),
                ranks=ranks,
                manifest=json.dumps(self.manifest) if self.manifest else None,
                source=self.source,
            )
            atomic_write(self.args.out, lambda path: torch.save(blob, path))
        self.barrier()

    def fit_budget(self, seconds_per_step):
        args, done = self.args, self.state["step"]
        fit = done + int((args.time_budget - self.state["seconds"]) / seconds_per_step)
        if fit < args.warmup:
            raise Failure(
                f"--time-budget {args.time_budget:.0f} s fits {fit} steps at {seconds_per_step:.3f} s a "
                f"step, fewer than --warmup {args.warmup}"
            )
        args.steps = fit
        self.log(f"time budget: {seconds_per_step:.4f} s a step over steps 6-{done} -> --steps {fit}")

    def run(self):
        args, st = self.args, self.state
        flops = self.model.flops_per_byte(self.memory)
        peak = next(
            (
                v
                for k, v in PEAK_FLOPS.items()
                if self.device.type == "cuda" and k in torch.cuda.get_device_name(self.device)
            ),
            None,
        )
        window_start, window_bytes, loss_sum, loss_count = time.time(), 0, torch.zeros((), device=self.device), 0
        probe_start = None
        last_save = st["step"]
        self.net.train()
        while st["step"] < args.steps:
            self.stop = int(self.all_max(float(self.stop)))  # every rank stops at the same step
            if self.stop:
                self.save()
                self.log(f"stopped at step {st['step']}; checkpoint saved to {args.out}; continue with --resume")
                return False
            t0 = time.time()
            loss_sum += self.step()
            loss_count += 1
            if self.device.type == "cuda" and (st["step"] % args.log_every == 0 or args.time_budget):
                torch.cuda.synchronize()
            st["seconds"] += time.time() - t0
            window_bytes += args.batch * args.segment
            if args.time_budget and not args.resume and st["step"] == 5:
                probe_start = st["seconds"]
            if args.time_budget and probe_start is not None and st["step"] == args.probe_steps:
                self.fit_budget(self.all_max((st["seconds"] - probe_start) / (args.probe_steps - 5)))
                probe_start = None
            if st["step"] % args.log_every == 0 or st["step"] == args.steps:
                loss = self.all_mean(loss_sum.item() / loss_count)
                if not math.isfinite(loss):
                    raise Failure(
                        f"training diverged at step {st['step']} (loss {loss}); lower --lr (now {args.lr}) "
                        f"or raise --warmup; the last good checkpoint is {args.out}"
                    )
                dt = time.time() - window_start
                bps = window_bytes / max(dt, 1e-9)
                eta = (args.steps - st["step"]) * args.batch * args.segment / max(bps, 1e-9)
                line = (
                    f"step {st['step']}/{args.steps} | loss {loss:.4f} | bpc {loss / math.log(2):.4f} | lr "
                    f"{rate(args, st['step']):.2e} | {int(bps)} B/s | {clock(st['seconds'])} elapsed | ETA "
                    f"{clock(eta)}"
                )
                if peak:
                    line += f" | MFU {100 * flops * bps / (peak * self.world):.1f}%"
                self.log(line)
                st["train_curve"].append(dict(step=st["step"], train_bpc=round(loss / math.log(2), 4)))
                window_start, window_bytes, loss_sum, loss_count = time.time(), 0, loss_sum * 0, 0
            if st["step"] % args.eval_every == 0 or st["step"] == args.steps:
                if self.rank == 0:
                    t1 = time.time()
                    bpc = self.validate_bpc()
                    st["last_valid_bpc"] = bpc
                    st["curve"].append(dict(step=st["step"], valid_bpc=round(bpc, 4)))
                    self.log(
                        f"step {st['step']} | valid bpc {bpc:.4f} over "
                        f"{min(args.eval_bytes, self.valid.numel())} bytes ({time.time() - t1:.1f} s)"
                    )
                self.barrier()
                window_start = time.time()
            if st["step"] % args.save_every == 0 or st["step"] == args.steps:
                self.save()
                last_save = st["step"]
                self.log(f"step {st['step']} | saved {args.out}")
                window_start = time.time()
        if last_save != st["step"]:
            self.save()
        return True

    # --- export

    def export(self):
        args, st, model = self.args, self.state, self.model
        dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[args.export_dtype]
        meta = dict(
            train_command=st["command"],
            train_data=self.source,
            train_steps=st["step"],
            train_bytes_seen=st["bytes_seen"],
            train_seconds=f"{st['seconds']:.0f}",
            train_valid_bpc="" if st["last_valid_bpc"] is None else f"{st['last_valid_bpc']:.4f}",
            trainer="train/train.py (PyTorch DDP)",
        )
        save_safetensors(model, args.export, meta, dtype)
        card = dict(
            model=os.path.basename(args.export),
            config=json.loads(model.cfg.to_json()),
            parameters=sum(p.numel() for p in model.parameters()),
            dtype=args.export_dtype,
            training_command=st["command"],
            trainer="train/train.py (PyTorch DistributedDataParallel)",
            training=dict(
                steps=st["step"],
                bytes_seen=st["bytes_seen"],
                seconds=round(st["seconds"]),
                valid_bpc=None if st["last_valid_bpc"] is None else round(st["last_valid_bpc"], 4),
                data=self.source,
                started=st["started"],
                finished=now(),
            ),
            machine=dict(
                hardware=self.hardware(),
                world_size=self.world,
                torch=torch.__version__,
                precision="bf16 autocast, fp32 master weights" if self.bf16 else "fp32",
                cpu_threads_per_process=torch.get_num_threads(),
            ),
            corpus=self.manifest,
            validation_curve=st["curve"],
            train_curve=st["train_curve"],
            resumed=st["resumed"],
        )
        if args.test_eval and self.manifest:
            card["bpc"] = self.test_bpc(dtype)
        path = args.card or os.path.splitext(args.export)[0] + ".json"
        atomic_write(path, lambda p: open(p, "w").write(json.dumps(card, indent=2) + "\n"))
        self.log(f"exported the model to {args.export} ({args.export_dtype}) and its card to {path}")

    def test_bpc(self, dtype):
        """The test split at the default evaluation memory and at the training memory, batch 1, in float32 with the
        exported weights (rounded to `dtype`), as `memscope eval --split test [--mem ...]` streams it."""
        raw, manifest = load_split(self.args.corpus, "test")
        raw = raw[: self.args.test_bytes] if self.args.test_bytes else raw
        model = TransformerXL(self.model.cfg).to(self.device).eval()
        model.load_state_dict({k: v.to(dtype).float() for k, v in self.model.state_dict().items()})
        out = {}
        for key, mem in (("test_default", model.cfg.eval_mem_lens), ("test_train", self.memory)):
            t0 = time.time()
            bits, count = evaluate_bits(model, as_tensor(raw), mem, self.args.segment)
            out[key] = dict(
                bpc=round(bits / count, 4),
                memory=mem,
                bytes=count,
                segment=self.args.segment,
                split_sha256=manifest["splits"]["test"]["sha256"],
                seconds=round(time.time() - t0, 1),
                by="train/model.py evaluate_bits (exported weights in fp32, batch 1, the streams of `memscope eval`)",
            )
            self.log(f"test bpc {bits / count:.4f} with memory {compact_mem(mem)} ({time.time() - t0:.1f} s)")
        return out


def atomic_write(path, write):
    """Write to a temporary file beside `path`, fsync, rename: a crash leaves the old file or the new one."""
    tmp = f"{path}.tmp{os.getpid()}"
    write(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clock(s):
    if not math.isfinite(s):
        return "?"
    t = int(round(s))
    return f"{t // 3600}h{t % 3600 // 60:02d}m" if t >= 3600 else f"{t // 60}m{t % 60:02d}s"


def main(argv):
    args = parse_args(argv)
    run = None
    try:
        run = Run(args, argv)
        run.setup()
        finished = run.run()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # the checkpoint is saved: signals stop as usual
            signal.signal(sig, signal.SIG_DFL)
        if finished and args.export and run.rank == 0:
            run.export()
        if finished:
            run.log(
                f"done: {run.state['step']} steps, {run.state['bytes_seen']} bytes seen, "
                f"{clock(run.state['seconds'])} training time; saved {args.out}"
            )
        return 0 if finished else 128 + run.stop
    except Failure as e:
        if run is None or run.rank == 0:  # every rank fails alike; one line is enough
            print(f"train.py: error: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        if run is not None and run.distributed and dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
