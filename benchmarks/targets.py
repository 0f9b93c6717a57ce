"""Judge every evidence target from the committed results and write ``results/targets.md``.

Reads ``results/models.json`` (with ``results/latency_cpu_b1.json`` merged in) and ``results/fashion_long_*.json``
through the same functions as the app's Evidence tab, so the README table and the app cannot disagree.

    python benchmarks/targets.py
"""

from __future__ import annotations

from pathlib import Path

from idfy.evidence import judge_targets, load_long_runs, load_model_results, targets_markdown


def main() -> None:
    root = Path(__file__).resolve().parent / "results"
    results = load_model_results(root)
    if results is None:
        raise SystemExit("benchmarks/results/models.json is missing: run benchmarks/compare_models.py first")
    text = targets_markdown(judge_targets(results, load_long_runs(root)))
    print(text)
    out = Path(__file__).resolve().parent / "results" / "targets.md"
    out.write_text("`python benchmarks/targets.py`\n\n" + text + "\n")


if __name__ == "__main__":
    main()
