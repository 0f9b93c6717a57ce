"""Dataset generation speed: shapes (6000 @ 64 px) and fashion-canvas (10000 @ 64 px), best of N.

    python benchmarks/data_speed.py [--repeats 3] [--threads 2]

Writes benchmarks/results/data_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import machine_info

from idfy.data import make_dataset

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name, n in (("shapes", 6000), ("fashion-canvas", 10000)):
        make_dataset(name, n=64, size=64)  # warm-up (and file reading for fashion)
        times = []
        for r in range(args.repeats):
            t = time.perf_counter()
            make_dataset(name, n=n, size=64, seed=r + 1)
            times.append(time.perf_counter() - t)
        rows.append(
            {
                "dataset": name,
                "n": n,
                "size": 64,
                "best_s": min(times),
                "median_s": sorted(times)[len(times) // 2],
            }
        )
    meta = machine_info()
    meta["command"] = "python benchmarks/data_speed.py " + " ".join(sys.argv[1:])
    md = ["| dataset | images | best (s) | median (s) | images/s |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        md.append(
            f"| {r['dataset']} | {r['n']} @ 64 px | {r['best_s']:.2f} | {r['median_s']:.2f} | {r['n'] / r['best_s']:,.0f} |"
        )
    text = "\n".join(md)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "data_speed.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    (OUT / "data_speed.md").write_text(f"`{meta['command']}` — {meta['machine']}\n\n{text}\n")


if __name__ == "__main__":
    main()
