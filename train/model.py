"""Transformer-XL with a memory length per layer: MemScope's model in PyTorch, for training at scale.

The computation is the reference's (kimiyoung/transformer-xl `pytorch/mem_transformer.py`, `attn_type=0`,
byte vocabulary, tied embedding), written batch-first in the style of nanoGPT's `model.py`. Parameter names are
the reference `state_dict` names, which are MemScope's checkpoint names, so `state_dict()` is the export.
Layer l attends over its last `mem_lens[l]` cached inputs and the segment (Rae & Razavi 2020, section 4).
"""

import json
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_LENGTH = 1 << 16  # MemScope's Config.maxLength
CONFIG_KEYS = (
    "n_token",
    "n_layer",
    "n_head",
    "d_model",
    "d_head",
    "d_inner",
    "tgt_len",
    "mem_lens",
    "same_length",
    "clamp_len",
    "pre_lnorm",
    "tie_weight",
    "activation",
    "layer_norm_eps",
)


@dataclass
class TXLConfig:
    """The `txl_config` metadata of a MemScope checkpoint (Sources/TXL/Config.swift)."""

    n_layer: int = 6
    n_head: int = 4
    d_model: int = 256
    d_head: int = 64
    d_inner: int = 1024
    tgt_len: int = 128
    mem_lens: list[int] | None = None  # training memory per layer, bottom layer first
    same_length: bool = False
    clamp_len: int = -1  # -1 (or 0) = off
    pre_lnorm: bool = False
    layer_norm_eps: float = 1e-5
    eval_mem_lens: list[int] | None = None  # MemScope's default evaluation memory (absent: mem_lens)
    n_token: int = 256
    tie_weight: bool = True
    activation: str = "relu"

    def __post_init__(self):
        if self.mem_lens is None:
            self.mem_lens = [self.tgt_len] * self.n_layer

    def validate(self) -> None:
        if self.n_token != 256 or not self.tie_weight or self.activation != "relu":
            raise ValueError("only n_token 256, tie_weight true and activation relu are supported")
        for name in ("n_layer", "n_head", "d_model", "d_head", "d_inner", "tgt_len"):
            v = getattr(self, name)
            if not 1 <= v <= MAX_LENGTH:
                raise ValueError(f"{name} is {v}; it must be between 1 and {MAX_LENGTH}")
        check_mem(self.mem_lens, self.n_layer, "mem_lens")
        if self.eval_mem_lens is not None:
            check_mem(self.eval_mem_lens, self.n_layer, "eval_mem_lens")
        if self.same_length and 0 in self.mem_lens:
            raise ValueError(f"same_length needs memory in every layer; layer {self.mem_lens.index(0)} has 0")

    def to_json(self) -> str:
        d = {k: v for k, v in asdict(self).items() if k in CONFIG_KEYS or (k == "eval_mem_lens" and v is not None)}
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TXLConfig":
        raw = json.loads(text)
        known = set(CONFIG_KEYS) | {"eval_mem_lens"}
        return cls(**{k: v for k, v in raw.items() if k in known})


def check_mem(lens: list[int], layers: int, what: str) -> None:
    if len(lens) != layers:
        raise ValueError(f"{what} has {len(lens)} lengths for {layers} layers")
    for i, m in enumerate(lens):
        if not 0 <= m <= MAX_LENGTH:
            raise ValueError(f"{what}: layer {i} length {m} is out of range 0...{MAX_LENGTH}")


def placement(kind: str, k: int, layers: int) -> set | None:
    """Layers that get long-range memory; interleaved is evenly spaced and ends at the top layer."""
    if kind == "first":
        return set(range(k))
    if kind == "last":
        return set(range(layers - k, layers))
    if kind == "interleaved":
        return {(i + 1) * layers // k - 1 for i in range(k)}
    return None


def parse_mem(text: str, layers: int, lrm: int, srm: int) -> list[int]:
    """MemScope's `--mem` grammar (Sources/TXL/MemorySpec.swift): N | N1,N2,... | L0-3:64,L4-5:512 | full | none |
    first:K | last:K | interleaved:K, with K long-range layers of length lrm and the rest srm."""
    s = text.strip().lower()
    if not s:
        raise ValueError("empty --mem; use N, N1,N2,..., full, none, first:K, last:K or interleaved:K")
    if s == "full":
        lens = [lrm] * layers
    elif s == "none":
        lens = [0] * layers
    elif s[0] == "l" and s[1:2].isdigit():
        out: list[int | None] = [None] * layers
        for item in s.replace(" ", ",").split(","):
            if not item:
                continue
            kv = item[1:].split(":")
            rng = kv[0].split("-") if kv else []
            try:
                assert len(kv) == 2 and len(rng) in (1, 2)
                value, lo, hi = int(kv[1]), int(rng[0]), int(rng[-1])
                assert lo <= hi
            except (AssertionError, ValueError):
                raise ValueError(f'"{item}" in "{text}" is not of the form L3:128 or L0-5:64') from None
            if hi >= layers:
                raise ValueError(f'"{item}": layer {hi} does not exist (layers 0-{layers - 1})')
            for i in range(lo, hi + 1):
                out[i] = value
        if None in out:
            raise ValueError(f'"{text}" leaves layer {out.index(None)} without a length')
        lens = [int(v) for v in out]
    elif ":" in s:
        kind, arg = s.split(":", 1)
        try:
            k = int(arg)
        except ValueError:
            raise ValueError(f'"{text}": K in {kind}:K must be a number') from None
        if not 0 <= k <= layers:
            raise ValueError(f'"{text}": K is {k} but the model has {layers} layers')
        long = placement(kind, k, layers)
        if long is None:
            raise ValueError(f'unknown placement "{kind}" in "{text}"; use first:K, last:K or interleaved:K')
        lens = [lrm if i in long else srm for i in range(layers)]
    else:
        values = []
        for p in s.split(","):
            try:
                values.append(int(p.strip()))
            except ValueError:
                raise ValueError(
                    f'"{text}": "{p.strip()}" is not a length; use N, N1,N2,..., full, none, first:K, last:K '
                    "or interleaved:K"
                ) from None
        if len(values) == 1:
            lens = values * layers
        elif len(values) == layers:
            lens = values
        else:
            raise ValueError(f'"{text}" gives {len(values)} lengths but the model has {layers} layers')
    check_mem(lens, layers, f"--mem {text}")
    return lens


def compact_mem(lens: list[int]) -> str:
    """'L0-3:64 L4-7:512', as MemScope prints memories."""
    out, i = [], 0
    while i < len(lens):
        j = i
        while j + 1 < len(lens) and lens[j + 1] == lens[i]:
            j += 1
        out.append(f"L{i}:{lens[i]}" if i == j else f"L{i}-{j}:{lens[i]}")
        i = j + 1
    return " ".join(out)


def rel_shift(x: torch.Tensor) -> torch.Tensor:
    """[..., T, K] scores by distance column (K-1 ... 0) -> by key column: one zero pad and a reshape."""
    *lead, T, K = x.shape
    x = F.pad(x, (1, 0)).view(*lead, K + 1, T)
    return x[..., 1:, :].reshape(*lead, T, K)


class Attention(nn.Module):
    """Relative multi-head attention over [memory ; segment] (Dai et al. 2019, section 3.3)."""

    def __init__(self, cfg: TXLConfig, dropout: float, dropatt: float):
        super().__init__()
        self.H, self.D, self.pre_lnorm = cfg.n_head, cfg.d_head, cfg.pre_lnorm
        self.qkv_net = nn.Linear(cfg.d_model, 3 * cfg.n_head * cfg.d_head, bias=False)  # rows: q, k, v
        self.r_net = nn.Linear(cfg.d_model, cfg.n_head * cfg.d_head, bias=False)
        self.o_net = nn.Linear(cfg.n_head * cfg.d_head, cfg.d_model, bias=False)
        self.layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.drop, self.dropatt = nn.Dropout(dropout), nn.Dropout(dropatt)

    def forward(self, h, cat, r, r_w_bias, r_r_bias, mask):
        # h: [B, T, C] the segment; cat: [B, K, C] memory then segment; r: [K, C] distances K-1 ... 0.
        B, T, K, H, D = h.size(0), h.size(1), cat.size(1), self.H, self.D
        x = self.layer_norm(cat) if self.pre_lnorm else cat
        q, k, v = self.qkv_net(x).view(B, K, 3, H, D).unbind(2)  # each [B, K, H, D]
        q = q[:, -T:]
        rk = self.r_net(r).view(K, H, D)
        ac = torch.einsum("bihd,bjhd->bhij", q + r_w_bias, k)  # content terms (a) + (c)
        bd = rel_shift(torch.einsum("bihd,jhd->bhij", q + r_r_bias, rk))  # position terms (b) + (d)
        score = ((ac + bd) * D**-0.5).float().masked_fill(mask, float("-inf"))  # [B, H, T, K]
        prob = self.dropatt(F.softmax(score, dim=-1).type_as(v))
        out = self.drop(self.o_net(torch.einsum("bhij,bjhd->bihd", prob, v).reshape(B, T, H * D)))
        return h + out if self.pre_lnorm else self.layer_norm(h + out)


class FeedForward(nn.Module):
    def __init__(self, cfg: TXLConfig, dropout: float):
        super().__init__()
        self.pre_lnorm = cfg.pre_lnorm
        # Indices 0 and 3 give the reference names CoreNet.0 / CoreNet.3.
        self.CoreNet = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.d_inner),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(cfg.d_inner, cfg.d_model),
            nn.Dropout(dropout),
        )
        self.layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)

    def forward(self, x):
        return x + self.CoreNet(self.layer_norm(x)) if self.pre_lnorm else self.layer_norm(x + self.CoreNet(x))


class Layer(nn.Module):
    def __init__(self, cfg: TXLConfig, dropout: float, dropatt: float):
        super().__init__()
        self.dec_attn = Attention(cfg, dropout, dropatt)
        self.pos_ff = FeedForward(cfg, dropout)

    def forward(self, h, cat, r, r_w_bias, r_r_bias, mask):
        return self.pos_ff(self.dec_attn(h, cat, r, r_w_bias, r_r_bias, mask))


class TransformerXL(nn.Module):
    def __init__(self, cfg: TXLConfig, dropout: float = 0.0, dropatt: float = 0.0):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        # The reference's containers, for its state_dict names: word_emb.emb_layers.0.weight (tied with the
        # output layer) and crit.out_layers.0.bias.
        self.word_emb = nn.Module()
        self.word_emb.emb_layers = nn.ModuleList([nn.Embedding(cfg.n_token, cfg.d_model)])
        self.crit = nn.Module()
        self.crit.out_layers = nn.ModuleList([nn.Module()])
        self.crit.out_layers[0].bias = nn.Parameter(torch.zeros(cfg.n_token))
        self.r_w_bias = nn.Parameter(torch.zeros(cfg.n_head, cfg.d_head))  # shared by every layer
        self.r_r_bias = nn.Parameter(torch.zeros(cfg.n_head, cfg.d_head))
        self.layers = nn.ModuleList([Layer(cfg, dropout, dropatt) for _ in range(cfg.n_layer)])
        self.drop = nn.Dropout(dropout)
        inv_freq = 1 / (10000 ** (torch.arange(0.0, cfg.d_model, 2.0) / cfg.d_model))
        self.register_buffer("inv_freq", inv_freq, persistent=False)  # not in MemScope checkpoints

    @property
    def embedding(self) -> torch.Tensor:
        return self.word_emb.emb_layers[0].weight

    def init_weights(self, std: float = 0.02) -> None:
        """MemScope's initialisation (TransformerXL.initialise): N(0, std) weights and r biases, layer-norm gains 1,
        biases 0. Draws from torch's global generator."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("layer_norm.weight"):
                    p.fill_(1.0)
                elif name.endswith(".bias"):
                    p.zero_()
                else:
                    p.normal_(0.0, std)

    def init_mems(self, batch: int, device=None, dtype=torch.float32) -> list[torch.Tensor]:
        return [torch.zeros(batch, 0, self.cfg.d_model, device=device, dtype=dtype) for _ in self.layers]

    def positions(self, klen: int, device) -> torch.Tensor:
        """Sinusoids of the distances klen-1 ... 0 (clamped at clamp_len when > 0): sin half, then cos half."""
        pos = torch.arange(klen - 1, -1, -1.0, device=device)
        if self.cfg.clamp_len > 0:
            pos = pos.clamp(max=self.cfg.clamp_len)
        angles = torch.outer(pos, self.inv_freq)
        return torch.cat([angles.sin(), angles.cos()], dim=-1)  # [klen, C]

    def mask(self, T: int, mlen: int, M: int, device) -> torch.Tensor:
        """True = hidden. Query i (at mlen+i) sees key j iff j <= mlen+i, and with same_length also j > mlen+i-M
        (exactly its last M keys, itself included)."""
        ones = torch.ones(T, mlen + T, dtype=torch.bool, device=device)
        mask = torch.triu(ones, diagonal=1 + mlen)
        if self.cfg.same_length:
            mask = mask | torch.tril(ones, diagonal=mlen - M)
        return mask

    def forward(self, idx: torch.Tensor, mems: list[torch.Tensor], mem_lens: list[int] | None = None):
        """idx: [B, T] bytes (int64); mems: per layer [B, m_l, C], m_l <= mem_lens[l] (the training memory by
        default). Returns logits [B, T, 256] and the new memories: each layer's last mem_lens[l] inputs, detached
        (the reference's stop-gradient)."""
        mem_lens = self.cfg.mem_lens if mem_lens is None else mem_lens
        T = idx.size(1)
        h = self.drop(self.word_emb.emb_layers[0](idx) * self.cfg.d_model**0.5)
        positions = {}
        new_mems = []
        for layer, mem, M in zip(self.layers, mems, mem_lens):
            mem = mem[:, mem.size(1) - min(M, mem.size(1)) :]
            cat = torch.cat([mem.to(h.dtype), h], dim=1)
            new_mems.append(cat[:, cat.size(1) - min(M, cat.size(1)) :].detach())
            K = cat.size(1)
            if K not in positions:
                positions[K] = self.drop(self.positions(K, h.device).to(h.dtype))
            h = layer(h, cat, positions[K], self.r_w_bias, self.r_r_bias, self.mask(T, K - T, M, h.device))
        h = self.drop(h)
        return F.linear(h, self.embedding, self.crit.out_layers[0].bias), new_mems

    def flops_per_byte(self, mem_lens: list[int] | None = None, training: bool = True) -> float:
        """Matrix-product FLOPs per predicted byte (2 per multiply-add), memory keys/values recomputed each segment
        as here; training counts backward as twice the forward."""
        c, T = self.cfg, self.cfg.tgt_len
        mem_lens = c.mem_lens if mem_lens is None else mem_lens
        A = c.n_head * c.d_head
        f = 2 * T * c.d_model * c.n_token
        for M in mem_lens:
            K = M + T
            f += 2 * K * c.d_model * 4 * A  # q, k, v of every key position and the position projection
            f += 3 * 2 * T * K * A  # content scores, position scores, probabilities x values
            f += 2 * T * A * c.d_model + 2 * 2 * T * c.d_model * c.d_inner  # output projection, feed-forward
        return f / T * (3 if training else 1)


@torch.no_grad()
def evaluate_bits(
    model: TransformerXL, data: torch.Tensor, mem_lens: list[int], segment: int, batch: int = 1
) -> (float, int):
    """-sum(log2 p) and the count of predicted bytes, as MemScope's Evaluator: `batch` contiguous streams of
    len // batch bytes, each predicting all its bytes but the first, segment by segment, memories carried."""
    L = data.numel() // batch
    if L < 2:
        raise ValueError(f"{data.numel()} bytes in {batch} streams: each needs at least 2 bytes")
    device = next(model.parameters()).device
    streams = data[: L * batch].view(batch, L).to(device=device, dtype=torch.long)
    mems = model.init_mems(batch, device)
    nats, pos = 0.0, 0
    while pos < L - 1:
        t = min(segment, L - 1 - pos)
        logits, mems = model(streams[:, pos : pos + t], mems, mem_lens)
        logp = F.log_softmax(logits.float(), dim=-1).gather(-1, streams[:, pos + 1 : pos + 1 + t, None])
        nats -= logp.double().sum().item()
        pos += t
    return nats / math.log(2), batch * (L - 1)


def save_safetensors(model: TransformerXL, path: str, metadata: dict, dtype=torch.float32) -> None:
    """The model as MemScope reads it: reference names, `txl_config` metadata; written to a temporary file, fsynced
    and renamed."""
    import os

    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    meta = {k: str(v) for k, v in metadata.items()}
    meta["txl_config"] = model.cfg.to_json()
    tmp = f"{path}.tmp{os.getpid()}"
    save_file(tensors, tmp, metadata=meta)
    os.chmod(tmp, 0o644)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_safetensors(path: str, dropout: float = 0.0, dropatt: float = 0.0):
    """A MemScope, converted-reference or fixture file -> (float32 model, the file's other tensors, metadata)."""
    from safetensors import safe_open

    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        if "txl_config" not in meta:
            raise ValueError(f"{path}: no txl_config metadata")
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    model = TransformerXL(TXLConfig.from_json(meta["txl_config"]), dropout, dropatt)
    names = set(model.state_dict())
    model.load_state_dict({k: v.float() for k, v in tensors.items() if k in names}, strict=True)
    return model, {k: v for k, v in tensors.items() if k not in names}, meta
