"""Shared paths for the opt-in PyTorch tests (`make test-torch`)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAIN)
sys.path.insert(0, TRAIN)
FIXTURES = os.environ.get("MEMSCOPE_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
MEMSCOPE = os.environ.get("MEMSCOPE_BIN", os.path.join(ROOT, ".build", "release", "memscope"))

# A 2-layer model small enough for a test to train in seconds (the flags of train.py and sweep.py alike).
TINY_SHAPE = "--layers 2 --d-model 32 --heads 2 --d-head 16 --d-inner 64 --segment 16".split()
