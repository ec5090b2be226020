"""The reference Transformer-XL computation in plain PyTorch, for parity checks and benchmarks.

This re-implements what kimiyoung/transformer-xl `pytorch/mem_transformer.py` computes for
`MemTransformerLM(attn_type=0, div_val=1, tie_weight=True, cutoffs=[])` with a byte-level
vocabulary of 256, generalised to one memory length per layer as `../shared/fixtures/README.md`
describes. It keeps the reference's tensor layout ([time, batch, ...]) and its sequence of
operations (einsum scores, `_rel_shift` by padding and reshaping, masked_fill, softmax over the
key axis), and like the reference it recomputes, in every segment, the keys and values of all
memory positions and the projections of the position embeddings. That is the computation that
`make bench` measures MemScope against.

Parameter names are the reference `state_dict` names (see the fixtures' README), so
`load_state_dict` takes a converted reference checkpoint or a fixture file directly.
"""

import json
import math
from dataclasses import asdict, dataclass, field
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class TXLConfig:
    """The `txl_config` metadata of a MemScope / fixture safetensors file."""

    n_token: int = 256
    n_layer: int = 8
    n_head: int = 4
    d_model: int = 256
    d_head: int = 64
    d_inner: int = 1024
    tgt_len: int = 128
    mem_lens: List[int] = field(default_factory=lambda: [512] * 8)
    same_length: bool = False
    clamp_len: int = -1
    pre_lnorm: bool = False
    tie_weight: bool = True
    activation: str = "relu"
    layer_norm_eps: float = 1e-5

    KEYS = ("n_token", "n_layer", "n_head", "d_model", "d_head", "d_inner", "tgt_len", "mem_lens",
            "same_length", "clamp_len", "pre_lnorm", "tie_weight", "activation", "layer_norm_eps")

    @classmethod
    def from_json(cls, text: str) -> "TXLConfig":
        raw = json.loads(text)
        missing = [k for k in cls.KEYS if k not in raw]
        if missing:
            raise ValueError(f"txl_config lacks {', '.join(missing)}")
        return cls(**{k: raw[k] for k in cls.KEYS})

    def to_json(self) -> str:
        return json.dumps({k: asdict(self)[k] for k in self.KEYS})

    def validate(self) -> None:
        if self.n_token != 256 or not self.tie_weight or self.activation != "relu":
            raise ValueError("only n_token 256, tie_weight true and activation relu are supported")
        if len(self.mem_lens) != self.n_layer or any(m < 0 for m in self.mem_lens):
            raise ValueError(f"mem_lens {self.mem_lens} needs {self.n_layer} lengths >= 0")
        if self.same_length and 0 in self.mem_lens:
            # The reference masks every key of such a layer (a window of no keys) and yields NaN.
            raise ValueError("same_length needs memory in every layer (a window of no keys)")


class PositionalEmbedding(nn.Module):
    """Sinusoids of the relative distances: the sin half, then the cos half."""

    def __init__(self, d_model: int):
        super().__init__()
        inv_freq = 1 / (10000 ** (torch.arange(0.0, d_model, 2.0) / d_model))
        # Not persistent: the fixtures and MemScope checkpoints do not store it.
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, pos_seq: torch.Tensor) -> torch.Tensor:
        angles = torch.outer(pos_seq, self.inv_freq)
        return torch.cat([angles.sin(), angles.cos()], dim=-1)[:, None, :]  # [klen, 1, d_model]


class PositionwiseFF(nn.Module):
    def __init__(self, d_model, d_inner, dropout, pre_lnorm, eps):
        super().__init__()
        # Indices 0 and 3 give the reference names CoreNet.0 / CoreNet.3.
        self.CoreNet = nn.Sequential(nn.Linear(d_model, d_inner), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                     nn.Linear(d_inner, d_model), nn.Dropout(dropout))
        self.layer_norm = nn.LayerNorm(d_model, eps=eps)
        self.pre_lnorm = pre_lnorm

    def forward(self, x):
        if self.pre_lnorm:
            return x + self.CoreNet(self.layer_norm(x))
        return self.layer_norm(x + self.CoreNet(x))


class RelPartialLearnableMultiHeadAttn(nn.Module):
    def __init__(self, n_head, d_model, d_head, dropout, dropatt, pre_lnorm, eps):
        super().__init__()
        self.n_head, self.d_head = n_head, d_head
        self.qkv_net = nn.Linear(d_model, 3 * n_head * d_head, bias=False)  # rows: q, k, v
        self.r_net = nn.Linear(d_model, n_head * d_head, bias=False)
        self.o_net = nn.Linear(n_head * d_head, d_model, bias=False)
        self.layer_norm = nn.LayerNorm(d_model, eps=eps)
        self.drop = nn.Dropout(dropout)
        self.dropatt = nn.Dropout(dropatt)
        self.scale = 1 / (d_head ** 0.5)
        self.pre_lnorm = pre_lnorm

    @staticmethod
    def _rel_shift(x):
        """[qlen, klen, ...] scores by distance column -> by key column, via one zero pad and a reshape."""
        zero_pad = x.new_zeros((x.size(0), 1, *x.size()[2:]))
        padded = torch.cat([zero_pad, x], dim=1).view(x.size(1) + 1, x.size(0), *x.size()[2:])
        return padded[1:].view_as(x)

    def forward(self, w, r, r_w_bias, r_r_bias, attn_mask, mem):
        # w: [qlen, bsz, d_model]; r: [klen, 1, d_model]; mem: [mlen, bsz, d_model] or None.
        qlen, bsz = w.size(0), w.size(1)
        cat = w if mem is None else torch.cat([mem, w], 0)
        # Keys and values of every memory position are recomputed here, as in the reference.
        w_heads = self.qkv_net(self.layer_norm(cat) if self.pre_lnorm else cat)
        r_head_k = self.r_net(r)
        q, k, v = torch.chunk(w_heads, 3, dim=-1)
        q = q[-qlen:]
        klen = k.size(0)

        q = q.view(qlen, bsz, self.n_head, self.d_head)
        k = k.view(klen, bsz, self.n_head, self.d_head)
        v = v.view(klen, bsz, self.n_head, self.d_head)
        r_head_k = r_head_k.view(klen, self.n_head, self.d_head)

        ac = torch.einsum("ibnd,jbnd->ijbn", (q + r_w_bias, k))           # content terms (a) + (c)
        bd = torch.einsum("ibnd,jnd->ijbn", (q + r_r_bias, r_head_k))     # position terms (b) + (d)
        bd = self._rel_shift(bd)
        score = (ac + bd).mul_(self.scale)                                # [qlen, klen, bsz, n_head]
        score = score.float().masked_fill(attn_mask[:, :, None, None], -float("inf")).type_as(score)
        prob = self.dropatt(F.softmax(score, dim=1))

        vec = torch.einsum("ijbn,jbnd->ibnd", (prob, v))
        vec = vec.contiguous().view(qlen, bsz, self.n_head * self.d_head)
        out = self.drop(self.o_net(vec))
        if self.pre_lnorm:
            return w + out
        return self.layer_norm(w + out)


class RelPartialLearnableDecoderLayer(nn.Module):
    def __init__(self, n_head, d_model, d_head, d_inner, dropout, dropatt, pre_lnorm, eps):
        super().__init__()
        self.dec_attn = RelPartialLearnableMultiHeadAttn(n_head, d_model, d_head, dropout, dropatt, pre_lnorm, eps)
        self.pos_ff = PositionwiseFF(d_model, d_inner, dropout, pre_lnorm, eps)

    def forward(self, x, r, r_w_bias, r_r_bias, attn_mask, mem):
        return self.pos_ff(self.dec_attn(x, r, r_w_bias, r_r_bias, attn_mask, mem))


class _Embedding(nn.Module):
    """Holds `emb_layers.0.weight` [n_token, d_model] (div_val 1, no projection)."""

    def __init__(self, n_token, d_model):
        super().__init__()
        self.emb_layers = nn.ModuleList([nn.Embedding(n_token, d_model)])
        self.emb_scale = d_model ** 0.5

    def forward(self, inp):
        return self.emb_layers[0](inp) * self.emb_scale


class _OutputBias(nn.Module):
    def __init__(self, n_token):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(n_token))


class _Crit(nn.Module):
    """Holds `out_layers.0.bias`; the output weight is the (tied) embedding."""

    def __init__(self, n_token):
        super().__init__()
        self.out_layers = nn.ModuleList([_OutputBias(n_token)])


class MemTransformerLM(nn.Module):
    def __init__(self, cfg: TXLConfig, dropout: float = 0.0, dropatt: float = 0.0):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.word_emb = _Embedding(cfg.n_token, cfg.d_model)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([
            RelPartialLearnableDecoderLayer(cfg.n_head, cfg.d_model, cfg.d_head, cfg.d_inner, dropout, dropatt,
                                            cfg.pre_lnorm, cfg.layer_norm_eps)
            for _ in range(cfg.n_layer)])
        self.pos_emb = PositionalEmbedding(cfg.d_model)
        self.r_w_bias = nn.Parameter(torch.zeros(cfg.n_head, cfg.d_head))
        self.r_r_bias = nn.Parameter(torch.zeros(cfg.n_head, cfg.d_head))
        self.crit = _Crit(cfg.n_token)

    def init_weights(self, generator: Optional[torch.Generator] = None, std: float = 0.02) -> None:
        """Random weights like the reference's `weights_init`: N(0, std), LayerNorm gains N(1, std), biases 0."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("layer_norm.weight"):
                    p.normal_(1.0, std, generator=generator)
                elif name.endswith(".bias"):
                    p.zero_()
                else:  # weights, embedding, r_w_bias, r_r_bias
                    p.normal_(0.0, std, generator=generator)

    def init_mems(self, bsz: int) -> List[torch.Tensor]:
        p = self.r_w_bias
        return [p.new_zeros(0, bsz, self.cfg.d_model) for _ in range(self.cfg.n_layer)]

    def _mask(self, qlen, mlen, M, device):
        """True = hidden. Query i (at mlen+i) sees key j iff j <= mlen+i, and with same_length also
        j > mlen+i-M (exactly its last M keys, itself included)."""
        klen = mlen + qlen
        ones = torch.ones(qlen, klen, dtype=torch.bool, device=device)
        mask = torch.triu(ones, diagonal=1 + mlen)
        if self.cfg.same_length:
            mask = mask | torch.tril(ones, diagonal=mlen - M)
        return mask

    def forward(self, inp: torch.Tensor, mems: List[torch.Tensor]):
        """inp: [qlen, bsz] int64 bytes. Returns (hidden [qlen, bsz, d_model], new mems)."""
        cfg = self.cfg
        qlen = inp.size(0)
        core = self.drop(self.word_emb(inp))
        pos_cache = {}
        hids = []
        for i, layer in enumerate(self.layers):
            M = cfg.mem_lens[i]
            hids.append(core)
            mem = mems[i][-M:] if M > 0 and mems[i].size(0) > 0 else None
            mlen = 0 if mem is None else mem.size(0)
            klen = mlen + qlen
            if klen not in pos_cache:
                pos_seq = torch.arange(klen - 1, -1, -1.0, device=core.device, dtype=core.dtype)
                if cfg.clamp_len > 0:
                    pos_seq.clamp_(max=cfg.clamp_len)
                pos_cache[klen] = self.drop(self.pos_emb(pos_seq))
            mask = self._mask(qlen, mlen, M, core.device)
            core = layer(core, pos_cache[klen], self.r_w_bias, self.r_r_bias, mask, mem)
        core = self.drop(core)
        keep = max(cfg.mem_lens)
        with torch.no_grad():
            new_mems = [torch.cat([m, h], 0)[-keep:].detach() if keep > 0 else m for m, h in zip(mems, hids)]
        return core, new_mems

    def log_probs(self, hidden: torch.Tensor) -> torch.Tensor:
        """Tied output layer + log-softmax: [..., n_token]."""
        logits = F.linear(hidden, self.word_emb.emb_layers[0].weight, self.crit.out_layers[0].bias)
        return F.log_softmax(logits, dim=-1)

    def target_log_prob(self, inp, target, mems):
        """log p(target | inp, mems) [qlen, bsz] and the new memories."""
        hidden, new_mems = self(inp, mems)
        lp = self.log_probs(hidden).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        return lp, new_mems


def load_safetensors(path: str, dropout: float = 0.0, dropatt: float = 0.0):
    """A MemScope / fixture file -> (model in float32, config, the file's other tensors)."""
    from safetensors import safe_open

    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        if "txl_config" not in meta:
            raise ValueError(f"{path}: no txl_config metadata")
        cfg = TXLConfig.from_json(meta["txl_config"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    model = MemTransformerLM(cfg, dropout, dropatt)
    names = set(model.state_dict().keys())
    weights = {k: v.float() for k, v in tensors.items() if k in names}
    model.load_state_dict(weights, strict=True)
    extra = {k: v for k, v in tensors.items() if k not in names}
    return model, cfg, extra
