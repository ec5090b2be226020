"""train/sweep.py on the prepared corpus with two tiny cells: results.json in `memscope sweep`'s layout, and a rerun
keeps the finished cells."""

import json
import os
import subprocess
import sys

import pytest

import sweep
from conftest import TINY_SHAPE, TRAIN
from train import data_folder

RECORD_KEYS = {
    "name",
    "placement",
    "long_layers",
    "lrm",
    "srm",
    "seed",
    "memory",
    "memory_floats",
    "steps",
    "bytes_seen",
    "train_seconds",
    "valid_bpc",
    "test_bpc",
    "long_lrm",
    "long_memory",
    "long_memory_floats",
    "long_test_bpc",
    "test_bytes",
    "test_offset",
    "text_sha256",
    "split_sha256",
    "eval_seconds",
    "model",
    "curve",
}


# Swift's SweepTrainSettings.dictionary keys: the flags every cell passes to train.py, and the sweep's own.
SWIFT_SETTINGS_KEYS = {"kind", *sweep.TRAIN_FLAGS, "lrm", "long_factor", "data", "test_offset", "test_bytes", "cells"}


@pytest.mark.skipif(
    not os.path.exists(os.path.join(data_folder(), "kernel-docs", "manifest.json")),
    reason="kernel-docs is not prepared (memscope data prepare)",
)
def test_two_cells(tmp_path):
    cmd = [
        sys.executable,
        os.path.join(TRAIN, "sweep.py"),
        "--out",
        str(tmp_path),
        "--cells",
        "full/s1,last:1/srm8/s2",
        "--lrm",
        "24",
        "--srm",
        "8",
        *TINY_SHAPE,
        "--batch",
        "4",
        "--steps",
        "3",
        "--warmup",
        "1",
        "--log-every",
        "1",
        "--eval-bytes",
        "256",
        "--test-offset",
        "1000",
        "--test-bytes",
        "600",
        "--",
        "--threads",
        "1",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    # sweep.json holds exactly Swift's SweepTrainSettings.dictionary keys, so `memscope sweep train` accepts the folder.
    settings = json.loads((tmp_path / "sweep.json").read_text())
    assert set(settings) == SWIFT_SETTINGS_KEYS
    assert settings["lr"] == "0.001" and settings["dropout"] == "0.0" and settings["test_bytes"] == "600"
    assert settings["data"].startswith("kernel-docs train ") and " test " in settings["data"]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["sweep"]["kind"] == "train" and results["sweep"]["cells"] == "full-s1,last1-srm8-s2"
    full, last = results["cells"]
    assert set(full) == RECORD_KEYS
    assert full["memory"] == [24, 24] and full["srm"] is None and full["long_layers"] == 2
    assert last["memory"] == [8, 24] and last["long_memory"] == [8, 96] and last["memory_floats"] == 32 * 32
    for cell in (full, last):
        assert cell["steps"] == 3 and cell["test_bytes"] == 600 and 0 < cell["test_bpc"] < 9
        assert (tmp_path / cell["model"]).exists()
        assert [p["step"] for p in cell["curve"]] == [1, 2, 3]
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and again.stdout.count("done earlier") == 2, again.stdout + again.stderr
    assert json.loads((tmp_path / "results.json").read_text())["cells"] == results["cells"]
