#!/usr/bin/env python3
"""Rae & Razavi's five claims against a sweep's results.json (docs/replication.md): prints a Markdown table.

Usage: scripts/replication-claims.py DIR/results.json [--srm N]

Test bpc per arrangement is the mean over its seeds. The noise is the largest seed spread (max - min) among the
arrangements that have several seeds; a difference larger than it is called real, a smaller one "within noise".
Cells that are not finished yet are reported as missing. Standard library only.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)["cells"]


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit("usage: scripts/replication-claims.py DIR/results.json [--srm N]")
    cells = load(args[0])
    srm_ref = None
    if "--srm" in args:
        srm_ref = int(args[args.index("--srm") + 1])
    # One long-range length: the most common (an evaluation sweep may hold several).
    lrms = [c["lrm"] for c in cells]
    lrm_ref = max(set(lrms), key=lrms.count) if lrms else None
    groups = {}
    for c in cells:
        if c["lrm"] != lrm_ref and c["placement"] != "none":
            continue
        key = (c["placement"], c.get("srm"))
        groups.setdefault(key, []).append(c["test_bpc"])
    if srm_ref is None:
        srms = [k[1] for k in groups if k[0] not in ("full",) and k[1] is not None]
        srm_ref = max(set(srms), key=srms.count) if srms else None
    spreads = [max(v) - min(v) for v in groups.values() if len(v) > 1]
    noise = max(spreads) if spreads else None

    def get(placement, srm=None):
        v = groups.get((placement, None if placement == "full" else (srm if srm is not None else srm_ref)))
        return (sum(v) / len(v), len(v)) if v else None

    def fmt(x):
        return "missing" if x is None else "%.4f%s" % (x[0], " (mean of %d)" % x[1] if x[1] > 1 else "")

    def compare(a, b):
        """Verdict on 'a is lower (better) than b'."""
        if a is None or b is None:
            return None, "not yet (cells missing)"
        d = a[0] - b[0]
        if noise is None:
            return d, "%+.4f; noise unknown (one seed each)" % d
        if abs(d) <= noise:
            return d, "%+.4f, within noise (%.4f)" % (d, noise)
        return d, "%+.4f, beyond noise (%.4f)" % (d, noise)

    def verdict(d, want_lower, about_equal=False):
        """want_lower: the claim says a < b. about_equal: the claim says a is about as good as b (a <= b + noise)."""
        if d is None:
            return "-"
        if noise is None:
            if about_equal:
                return "open: noise unknown (one seed)"
            return ("agrees" if (d < 0) == want_lower else "disagrees") + " (one seed, noise unknown)"
        if abs(d) <= noise:
            return "agrees (within noise)" if about_equal else "within noise"
        if about_equal:
            return "agrees (better)" if d < 0 else "disagrees"
        return "agrees" if (d < 0) == want_lower else "disagrees"

    full = get("full")
    rows = []

    # 1. One long-range layer out of six (the paper's K = N/6) about as good as full.
    l1 = get("last:1")
    d, txt = compare(l1, full)
    rows.append(("1. K = N/6 long-range layers (here `last:1`) are about as good as `full`",
                 "`last:1` %s vs `full` %s: %s" % (fmt(l1), fmt(full), txt), verdict(d, True, about_equal=True)))

    # 2. Limiting the range of the lower layers does better than full.
    best = None
    for (p, s), v in groups.items():
        if p == "last:1":
            m = (sum(v) / len(v), len(v))
            if best is None or m[0] < best[1][0]:
                best = (s, m)
    if best is None:
        rows.append(("2. Limiting the range of the lower layers does better than `full`", "not yet (cells missing)", "-"))
    else:
        d, txt = compare(best[1], full)
        rows.append(("2. Limiting the range of the lower layers does better than `full`",
                     "best `last:1` (srm %s) %s vs `full` %s: %s" % (best[0], fmt(best[1]), fmt(full), txt),
                     verdict(d, True)))

    # 3. Long-range layers only at the bottom is the worst placement (for each K).
    parts, verdicts = [], []
    for k in (1, 2):
        first = get("first:%d" % k)
        others = {p: get("%s:%d" % (p, k)) for p in ("last", "interleaved")}
        others = {p: v for p, v in others.items() if v is not None}
        if first is None or not others:
            parts.append("K=%d: not yet" % k)
            continue
        worst_other = max(others.items(), key=lambda kv: kv[1][0])
        d, txt = compare(first, worst_other[1])
        parts.append("K=%d: `first:%d` %s vs `%s:%d` %s: %s" % (k, k, fmt(first), worst_other[0], k, fmt(worst_other[1]), txt))
        verdicts.append("K=%d %s" % (k, verdict(d, False)))
    rows.append(("3. Long-range layers only at the bottom is the worst placement", "; ".join(parts),
                 "; ".join(verdicts) if verdicts else "-"))

    # 4. Interleaved is best, last a close second (K = 2; for K = 1 they are the same arrangement).
    i2, l2 = get("interleaved:2"), get("last:2")
    d, txt = compare(i2, l2)
    rows.append(("4. Interleaved is best, last a close second (K = 2)",
                 "`interleaved:2` %s vs `last:2` %s: %s" % (fmt(i2), fmt(l2), txt), verdict(d, True)))

    # 5. Many long-range layers at the bottom do worse than a single one at the top.
    f2 = get("first:2")
    d, txt = compare(l1, f2)
    rows.append(("5. Several long-range layers at the bottom do worse than one at the top",
                 "`last:1` %s vs `first:2` %s: %s" % (fmt(l1), fmt(f2), txt), verdict(d, True)))

    print("Long-range length: %s. Short-range length for the placements: %s. Noise (largest seed spread): %s.\n"
          % (lrm_ref, srm_ref, "%.4f bpc" % noise if noise is not None else "unknown (no arrangement has two seeds yet)"))
    print("| claim (Rae & Razavi 2020) | this run: test bpc | verdict |")
    print("|---|---|---|")
    for claim, found, verdict in rows:
        print("| %s | %s | %s |" % (claim, found, verdict))


if __name__ == "__main__":
    main()
