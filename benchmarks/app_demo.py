"""The Train tab's demo as a new user meets it: the app started as ``make run`` starts it (its own process), Debian's
Chromium opening the Train tab, Start pressed without changing anything, the final verdict read off the page.

    python benchmarks/app_demo.py --runs 3

For each run: the held-out localization accuracy of the verdict (the full test split), the held-out points the
page plotted during the run (step, loc. accuracy %), the steps and seconds from the status line, and
screenshots of the tab in mid-run and at the end (``--out``/app_demo_run<K>_{mid,done}.png). The browser and the
server share the machine's cores, as they do on a laptop. Writes ``app_demo.json`` and ``app_demo.md`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _browser import CHROMIUM, CHROMIUM_ARGS, free_port
from _meta import machine_info

ROOT = Path(__file__).resolve().parent.parent
#: (step, %) of the plot's held-out localization accuracy trace.
_HELD_OUT = (
    "() => { const g = document.querySelector('#train-curves .js-plotly-plot');"
    " const t = g && g.data ? g.data.find(d => d.name.startsWith('loc. accuracy')) : null;"
    " return t ? [Array.from(t.x), Array.from(t.y)] : [[], []]; }"
)


def _wait_for(url: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the app did not answer at {url} within {seconds:g} s")


def parse_page(verdict: str, status: str) -> dict[str, Any]:
    """The final loc. accuracy (%) of the verdict, and the steps and seconds from Start of the status line."""
    acc = re.search(r"localization accuracy (\d+(?:\.\d+)?) %", verdict)
    steps = re.search(r"at step (\d[\d,]*)", status)
    after = re.search(r"(\d+\.\d) s after Start", status)
    return {
        "loc_accuracy_pct": float(acc[1]) if acc else None,
        "steps": int(steps[1].replace(",", "")) if steps else None,
        "result_s_after_start": float(after[1]) if after else None,
    }


def one_run(browser: Any, url: str, shots: Path, k: int) -> dict[str, Any]:
    """Open the Train tab, press Start, wait for the verdict; what the page showed."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(240_000)
    page.goto(url)
    page.wait_for_selector("[data-card=params]")
    page.get_by_role("tab", name="Train").click()
    page.wait_for_selector("#train-status [data-state=idle]")
    idle = page.locator("#train-status").inner_text()
    load = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    page.locator("#train-start").click()
    page.wait_for_timeout(35_000)
    page.screenshot(path=str(shots / f"app_demo_run{k}_mid.png"))
    page.wait_for_selector("#train-verdict")
    seen_s = time.perf_counter() - t0
    page.wait_for_function("() => !document.querySelector('#train-start').disabled")
    page.screenshot(path=str(shots / f"app_demo_run{k}_done.png"), full_page=True)
    verdict = page.locator("#train-verdict").inner_text()
    status = page.locator("#train-status").inner_text()
    xs, ys = page.evaluate(_HELD_OUT)
    page.close()
    return {
        "run": k,
        "idle_text": idle.strip().splitlines()[0] if idle.strip() else "",
        **parse_page(verdict, status),
        "verdict_seen_s": round(seen_s, 1),
        "held_out_points": [[round(float(x), 1), round(float(y), 1)] for x, y in zip(xs, ys, strict=False)],
        "verdict": verdict.strip(),
        "load_before": load,
        "load_after": round(os.getloadavg()[0], 2),
    }


def markdown(res: dict[str, Any]) -> str:
    runs = res["runs"]
    accs = [r["loc_accuracy_pct"] for r in runs if r["loc_accuracy_pct"] is not None]
    lines = [
        "# The Train tab's demo in the browser",
        "",
        f"Command: `{res['command']}`  ",
        f"Date: {res['meta']['date']}; machine: {res['meta']['machine']}; torch {res['meta']['torch']}, "
        f"Python {res['meta']['python']}; Chromium {res['chromium']} headless on the same cores as the server.",
        "",
        "The app started as `make run` starts it (`python app.py`); each run opens the Train tab, presses Start "
        "without changing anything and waits for the verdict. Loc. accuracy: the verdict's (the full held-out "
        "split); held-out points: what the page plotted during the run (step, loc. accuracy % on the held-out subset).",
        "",
        "| run | steps | result at (s from Start) | verdict on the page after (s) | loc. acc. | held-out points "
        "(step: %) | load |",
        "|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in runs:
        pts = ", ".join(f"{x:g}: {y:.1f}" for x, y in r["held_out_points"])
        acc = f"{r['loc_accuracy_pct']:.1f} %" if r["loc_accuracy_pct"] is not None else "–"
        lines.append(
            f"| {r['run']} | {r['steps'] or '–'} | {r['result_s_after_start'] or '–'} | {r['verdict_seen_s']} | "
            f"{acc} | {pts} | {r['load_before']} → {r['load_after']} |"
        )
    if accs:
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        verdict = "met" if statistics.mean(accs) >= 80 else "missed"
        lines += ["", f"Mean **{statistics.mean(accs):.1f} ± {sd:.1f} %** over {len(accs)} runs: goal ≥ 80 % "
                      f"in 60 s — {verdict}."]  # fmt: skip
    lines += ["", "First run's verdict, as the page says it: " + runs[0]["verdict"].replace("\n", " ")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_for(url, 120)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            runs = []
            for k in range(1, args.runs + 1):
                runs.append(one_run(browser, url, args.out, k))
                print(json.dumps({key: v for key, v in runs[-1].items() if key != "verdict"}), flush=True)
            chromium = browser.version
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    res = {"command": "python benchmarks/app_demo.py " + " ".join(argv or sys.argv[1:]), "meta": machine_info(),
           "chromium": chromium, "runs": runs}  # fmt: skip
    (args.out / "app_demo.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    text = markdown(res)
    (args.out / "app_demo.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
