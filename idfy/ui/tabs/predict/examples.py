"""The Predict tab's example pictures (``assets/examples``): their true box and class, recognised by content
when one is uploaded again, and served from a temporary copy."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from idfy.train.config import TrainConfig

__all__ = ["EXAMPLES_DIR", "Example", "example_copy", "examples", "known_example"]

EXAMPLES_DIR = Path(__file__).resolve().parents[4] / "assets" / "examples"


@dataclass(frozen=True)
class Example:
    """One picture of ``assets/examples`` with its true box (normalized xyxy) and class."""

    path: Path
    dataset: str
    class_name: str
    box: tuple[float, float, float, float]

    @property
    def caption(self) -> str:
        return f"{self.class_name} · {self.dataset}"


@functools.lru_cache(maxsize=1)
def examples() -> tuple[Example, ...]:
    """The example images listed in ``assets/examples/examples.json`` (empty when the folder is missing), those
    of the Train tab's default data (the demo's) first: a person who ran the demo finds its pictures first."""
    index = EXAMPLES_DIR / "examples.json"
    if not index.is_file():
        return ()
    out = []
    for item in json.loads(index.read_text(encoding="utf-8")):
        path = EXAMPLES_DIR / item["file"]
        if path.is_file():
            box = tuple(float(v) for v in item["box"])
            out.append(Example(path, item["dataset"], item["class_name"], box))  # type: ignore[arg-type]
    demo_data = TrainConfig().data
    return tuple(sorted(out, key=lambda e: e.dataset != demo_data))  # stable: the file's order otherwise


@functools.lru_cache(maxsize=1)
def _example_digests() -> dict[str, Example]:
    return {hashlib.sha256(e.path.read_bytes()).hexdigest(): e for e in examples()}


def known_example(path: str | Path) -> Example | None:
    """The example whose bytes ``path`` holds (an upload of an example counts too), else None."""
    p = Path(path)
    try:
        if p.stat().st_size > 2**20:
            return None
        return _example_digests().get(hashlib.sha256(p.read_bytes()).hexdigest())
    except OSError:
        return None


_COPIES: Path | None = None


def example_copy(index: int) -> str:
    """A copy of example ``index`` in a temporary folder (Gradio serves files from there whatever the cwd)."""
    global _COPIES
    ex = examples()[index]
    if _COPIES is None:
        _COPIES = Path(tempfile.mkdtemp(prefix="idfy-examples-"))
    dest = _COPIES / ex.path.name
    if not dest.is_file():
        shutil.copyfile(ex.path, dest)
    return str(dest)
