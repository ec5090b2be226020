"""Shared paths for the opt-in PyTorch tests (`make test-torch`)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAIN)
sys.path.insert(0, TRAIN)
FIXTURES = os.environ.get("MEMSCOPE_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
MEMSCOPE = os.environ.get("MEMSCOPE_BIN", os.path.join(ROOT, ".build", "release", "memscope"))
