#!/usr/bin/env python3
"""Prepares a Hugging Face Transformer-XL folder (e.g. transfo-xl/transfo-xl-wt103) for MemScope.

Usage: scripts/convert-hf.py DIR

- Reads the vocabulary pickle (vocab.pkl, or vocab.bin as torch.save wrote it) with a restricted unpickler that
  builds only plain builtins and `collections` classes and replaces everything else (sacremoses objects, regex
  patterns, tokenizer classes) by inert stubs, so nothing in the file runs. Writes DIR/vocab.json.
- If DIR has pytorch_model.bin but no model.safetensors, converts it with torch.load(weights_only=True).
  Only this step needs torch, and it is imported only then.

Python standard library only (plus torch for the second step). MemScope itself never unpickles anything.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

# Constructors a vocabulary pickle may call. No callable here can run code or touch files.
ALLOWED = {
    ("builtins", n): getattr(__import__("builtins"), n)
    for n in ("dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray", "int", "float", "bool",
              "complex", "slice", "range", "object")
}
ALLOWED.update({("collections", n): getattr(collections, n)
                for n in ("OrderedDict", "Counter", "defaultdict", "deque")})
ALLOWED[("__builtin__", "set")] = set          # protocol 2 pickles written by Python 2


class Stub:
    """Stands for an object of a class that is not allowed; keeps nothing it was given."""

    stub_name = "?"

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __reduce__(self):
        raise pickle.PicklingError("stub")

    def __repr__(self):
        return f"<stub {self.stub_name}>"


class RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, f):
        super().__init__(f)
        self.stubbed = set()

    def find_class(self, module, name):
        target = ALLOWED.get((module, name))
        if target is not None:
            return target
        self.stubbed.add(f"{module}.{name}")
        return type(name, (Stub,), {"stub_name": f"{module}.{name}"})

    def persistent_load(self, pid):
        # torch.save's storages: a vocabulary has none, so any is refused.
        raise pickle.UnpicklingError(f"persistent id {pid!r}: the vocabulary holds a tensor, which is not expected")


def restricted_load(data):
    """Loads one pickle from bytes, a zip made by torch.save, or a legacy torch.save stream."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = [n for n in z.namelist() if n.endswith("data.pkl")]
            if len(names) != 1:
                raise ValueError(f"a zip without exactly one data.pkl (found {names})")
            data = z.read(names[0])
    f = io.BytesIO(data)
    u = RestrictedUnpickler(f)
    obj = u.load()
    # Legacy torch.save: magic number, protocol version, system info, then the object.
    if obj == 0x1950A86A20F9469CFC6C:
        RestrictedUnpickler(f).load()
        RestrictedUnpickler(f).load()
        u = RestrictedUnpickler(f)
        obj = u.load()
    return obj, u.stubbed


def vocab_json(d, source):
    """The fields MemScope's WordVocabulary reads, from the tokenizer's attribute dict."""
    if not isinstance(d, dict):
        raise ValueError(f"{source}: expected a dict (the tokenizer's attributes), found {type(d).__name__}")
    idx2sym = d.get("idx2sym")
    if not isinstance(idx2sym, list) or not idx2sym or not all(isinstance(s, str) for s in idx2sym):
        raise ValueError(f"{source}: field idx2sym is missing or not a list of strings")
    unk = d.get("unk_idx")
    if not isinstance(unk, int) or isinstance(unk, bool):
        unk = next((idx2sym.index(s) for s in ("<unk>", "<UNK>") if s in idx2sym), None)
    delimiter = d.get("delimiter")
    if delimiter is not None and not isinstance(delimiter, str):
        delimiter = None
    special = [s for s in d.get("special", []) if isinstance(s, str)] if isinstance(d.get("special"), list) else []
    return {
        "format": "memscope-word-vocab-1",
        "source": os.path.basename(source),
        "idx2sym": idx2sym,
        "unk_idx": unk,
        "eos": "<eos>",
        "lower_case": bool(d.get("lower_case", False)),
        "delimiter": delimiter,
        "special": special,
    }


def convert_vocab(folder):
    for name in ("vocab.pkl", "vocab.bin"):
        src = os.path.join(folder, name)
        if os.path.exists(src):
            break
    else:
        raise FileNotFoundError(f"{folder}: no vocab.pkl or vocab.bin")
    with open(src, "rb") as f:
        obj, stubbed = restricted_load(f.read())
    out = vocab_json(obj, src)
    dst = os.path.join(folder, "vocab.json")
    tmp = dst + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, dst)
    note = f" (stubbed, not run: {', '.join(sorted(stubbed))})" if stubbed else ""
    print(f"{dst}: {len(out['idx2sym'])} words, unk {out['unk_idx']}{note}")


def write_safetensors(tensors, path):
    """safetensors by hand: u64 header length, JSON header, raw little-endian bytes
    (format: huggingface/safetensors)."""
    import torch  # noqa: F401  (only reached from convert_weights)
    names = {
        "torch.float32": "F32", "torch.float16": "F16", "torch.bfloat16": "BF16",
        "torch.int64": "I64", "torch.int32": "I32", "torch.uint8": "U8",
    }
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        dt = names.get(str(t.dtype))
        if dt is None:
            raise ValueError(f"{path}: tensor {name} has dtype {t.dtype}, which MemScope does not read")
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def convert_weights(folder):
    st, pt = os.path.join(folder, "model.safetensors"), os.path.join(folder, "pytorch_model.bin")
    if os.path.exists(st) or not os.path.exists(pt):
        return
    try:
        import torch
    except ImportError:
        raise SystemExit(f"{pt}: converting it needs torch (pip install torch); model.safetensors is missing")
    state = torch.load(pt, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise SystemExit(f"{pt}: not a state dict")
    write_safetensors({k: v for k, v in state.items() if hasattr(v, "dtype")}, st)
    print(f"{st}: {len(state)} tensors from {os.path.basename(pt)}")


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    folder = argv[1]
    if not os.path.isdir(folder):
        print(f"{folder}: not a directory", file=sys.stderr)
        return 1
    try:
        convert_vocab(folder)
        convert_weights(folder)
    except (OSError, ValueError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile) as e:
        print(f"convert-hf: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
