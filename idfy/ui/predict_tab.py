"""Predict tab: an image in -> the box and label drawn on it, the seed's 5-tuple (x1, y1, x2, y2, label) in pixels
and normalized, the class probabilities and what each stage sees (the re-injected image and the feature maps).

The image is an upload (decoded once by :func:`idfy.data.decode_image`, so a file that is not an image, truncated,
enormous, 16-bit, RGBA or animated gets a clear message or is converted) or one of ``assets/examples``. The model
is this session's latest checkpoint from the Train tab (:mod:`idfy.ui.jobs`) or an uploaded ``.pt`` file, loaded by
:meth:`idfy.predict.Predictor.from_checkpoint` (``torch.load(weights_only=True)``), size-capped, and only from
Gradio's upload folder.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from idfy.config import ConfigError
from idfy.data import IMAGE_EXTENSIONS, ImageError, decode_image
from idfy.ui.formatting import part_label
from idfy.ui.jobs import REGISTRY, JobRegistry

__all__ = [
    "LATEST",
    "MAX_CHECKPOINT_BYTES",
    "NO_CHECKPOINT",
    "UPLOADED",
    "Example",
    "build",
    "examples",
    "load_predictor",
    "predict",
    "predict_image",
    "stage_gallery",
]

log = logging.getLogger("idfy.ui")

LATEST = "latest from Train"
UPLOADED = "uploaded .pt"
MAX_CHECKPOINT_BYTES = 100 * 2**20
NO_CHECKPOINT = (
    "No checkpoint yet: train a model in the Train tab first or upload a checkpoint (.pt) here "
    "(a page reload starts a new session)."
)
INTERNAL_ERROR = "the prediction failed unexpectedly (the details are in the server log)"
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"
_TRUTH = (34, 197, 94)
_VIEW_SIDE = 132


# --------------------------------------------------------------------------- examples
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
    """The example images listed in ``assets/examples/examples.json`` (empty when the folder is missing)."""
    index = EXAMPLES_DIR / "examples.json"
    if not index.is_file():
        return ()
    out = []
    for item in json.loads(index.read_text(encoding="utf-8")):
        path = EXAMPLES_DIR / item["file"]
        if path.is_file():
            box = tuple(float(v) for v in item["box"])
            out.append(Example(path, item["dataset"], item["class_name"], box))  # type: ignore[arg-type]
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _example_digests() -> dict[str, Example]:
    return {hashlib.sha256(e.path.read_bytes()).hexdigest(): e for e in examples()}


def _known_example(path: str | Path) -> Example | None:
    """The example whose bytes ``path`` holds (an upload of an example counts too), else None."""
    p = Path(path)
    try:
        if p.stat().st_size > 2**20:
            return None
        return _example_digests().get(hashlib.sha256(p.read_bytes()).hexdigest())
    except OSError:
        return None


_COPIES: Path | None = None


def _example_copy(index: int) -> str:
    """A copy of example ``index`` in a temporary folder (Gradio serves files from there whatever the cwd)."""
    global _COPIES
    ex = examples()[index]
    if _COPIES is None:
        _COPIES = Path(tempfile.mkdtemp(prefix="idfy-examples-"))
    dest = _COPIES / ex.path.name
    if not dest.is_file():
        shutil.copyfile(ex.path, dest)
    return str(dest)


# --------------------------------------------------------------------------- checkpoints
@dataclass
class Loaded:
    """A predictor and what to say about its checkpoint. ``lock``: one prediction at a time per model (the stage
    views are collected by forward hooks on the shared module)."""

    predictor: Any
    info: dict[str, Any]
    lock: threading.Lock = field(default_factory=threading.Lock)


@functools.lru_cache(maxsize=4)
def _load(path: str, _mtime_ns: int, _size: int) -> Loaded:
    from idfy.checkpoint import load_checkpoint, model_config_of
    from idfy.predict import Predictor
    from idfy.ui.limits import check_memory

    ckpt = load_checkpoint(path, map_location="cpu")  # weights_only=True
    cfg = model_config_of(ckpt)
    check_memory(cfg)  # a crafted config must not make the server build an enormous model
    predictor = Predictor.from_loaded(ckpt)  # the file is read and verified once
    stored = ckpt.get("metrics") if isinstance(ckpt.get("metrics"), dict) else {}
    info = {
        "model": cfg.name,
        "dataset": ckpt.get("data"),
        "step": ckpt.get("step"),
        "size": int(cfg.input.size[0]),
        "classes": list(predictor.classes),
        # the held-out metrics stored with the weights (for the chance-level check)
        "metrics": {k: stored[k] for k in ("n", "accuracy", "mean_iou", "loc_accuracy") if k in stored},
    }
    del ckpt
    return Loaded(predictor, info)


def load_predictor(path: str | Path) -> Loaded:
    """Load (and cache by path, modification time and size) a checkpoint as a :class:`Loaded` predictor.

    Raises:
        ValueError: the file is missing, too large, or not a usable idfy checkpoint (the message says why).
    """
    p = Path(path)
    name = p.name
    try:
        st = p.stat()
    except OSError:
        raise ValueError(f"{name}: the checkpoint file is gone; train again or upload it again") from None
    if st.st_size > MAX_CHECKPOINT_BYTES:
        raise ValueError(
            f"{name}: {st.st_size / 2**20:.0f} MB is more than the {MAX_CHECKPOINT_BYTES // 2**20} MB a checkpoint may have"
        )
    try:
        return _load(str(p), st.st_mtime_ns, st.st_size)
    except ConfigError as e:
        raise ValueError(f"{name}: the checkpoint's design cannot be used here ({e})") from None
    except ValueError as e:
        raise ValueError(f"{name}: {str(e).removeprefix(str(p) + ': ')}") from None
    except (RuntimeError, KeyError, TypeError) as e:  # weights that do not fit the stored design
        raise ValueError(f"{name}: not a usable idfy checkpoint ({type(e).__name__}: {e})") from None


def _resolve_checkpoint(
    source: str, upload: str | None, session: str | None, registry: JobRegistry
) -> tuple[Loaded, str]:
    """(predictor, where it came from) for the chosen source; ValueError with the reason otherwise."""
    if source == UPLOADED:
        if not upload:
            raise ValueError("upload a checkpoint (.pt) first, or choose 'latest from Train'")
        if Path(upload).suffix.lower() not in (".pt", ".pth"):
            raise ValueError(f"{Path(upload).name}: upload a .pt checkpoint written by idfy")
        return load_predictor(upload), f"uploaded {Path(upload).name}"
    latest = registry.latest(session)
    if latest is None:
        raise LookupError(NO_CHECKPOINT)
    loaded = load_predictor(latest.path)
    loaded.info.update({k: v for k, v in latest.info.items() if v is not None})
    return loaded, "latest from Train"


# --------------------------------------------------------------------------- pictures
@functools.lru_cache(maxsize=1)
def _viridis() -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)


def _enlarge(pil: Image.Image, side: int = _VIEW_SIDE) -> Image.Image:
    """Nearest-neighbour enlargement by a whole factor so the longer side is about ``side`` pixels."""
    f = max(1, round(side / max(pil.width, pil.height)))
    return pil.resize((pil.width * f, pil.height * f), Image.Resampling.NEAREST) if f > 1 else pil


def _heat(arr: np.ndarray) -> Image.Image:
    """(h, w) float -> viridis RGB, scaled to its own min..max."""
    a = np.nan_to_num(arr.astype(np.float32))
    lo, hi = float(a.min()), float(a.max())
    idx = (
        np.zeros(a.shape, np.uint8)
        if hi - lo < 1e-12
        else ((a - lo) / (hi - lo) * 255).round().astype(np.uint8)
    )
    return Image.fromarray(_viridis()[idx], "RGB")


def _picture(chw: np.ndarray) -> Image.Image:
    """(C, h, w) in [0, 1] -> RGB."""
    a = (np.clip(chw, 0, 1) * 255).round().astype(np.uint8)
    if a.shape[0] == 1:
        a = np.repeat(a, 3, axis=0)
    return Image.fromarray(np.ascontiguousarray(a[:3].transpose(1, 2, 0)), "RGB")


def _mosaic(maps: np.ndarray, side: int = _VIEW_SIDE) -> Image.Image:
    """Up to 4 (h, w) maps in a 2×2 grid, each coloured on its own scale and enlarged, 3 px apart."""
    cols = 2 if len(maps) > 1 else 1
    tiles = [_enlarge(_heat(m), side // cols) for m in maps[:4]]
    h, w, gap = tiles[0].height, tiles[0].width, 3
    rows = (len(tiles) + cols - 1) // cols
    out = Image.new("RGB", (cols * w + (cols - 1) * gap, rows * h + (rows - 1) * gap), (255, 255, 255))
    for i, t in enumerate(tiles):
        out.paste(t, ((i % cols) * (w + gap), (i // cols) * (h + gap)))
    return out


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(int(v)) for v in shape)


def stage_gallery(prediction: Any) -> list[tuple[Image.Image, str]]:
    """What each stage sees, as (picture, caption) pairs: the image re-injected there (S1), the mean of its output
    feature maps and its four strongest channels."""
    items: list[tuple[Image.Image, str]] = []
    for v in prediction.stage_views:
        where = part_label(v.name)
        if v.injected is not None:
            items.append((_enlarge(_picture(v.injected)), f"{where} · injected {_shape(v.injected.shape)}"))
        if v.features is not None:
            items.append((_enlarge(_heat(v.features)), f"{where} · features {_shape(v.shape)}"))
        if v.top is not None and len(v.top):
            chans = ", ".join(str(c) for c in v.top_channels)
            items.append((_mosaic(v.top), f"{where} · channels {chans}"))
    return items


def _overlay(image: Any, prediction: Any, truth: Example | None) -> Image.Image:
    """The library's overlay (predicted box and label), plus the true box in green for a known example."""
    from idfy.predict import draw_overlay

    pil = draw_overlay(image, prediction)
    if truth is not None:
        h, w = prediction.image_size
        fx, fy = pil.width / w, pil.height / h
        x1, y1, x2, y2 = truth.box
        lw = max(2, pil.height // 128)
        ImageDraw.Draw(pil).rectangle(
            (x1 * w * fx, y1 * h * fy, x2 * w * fx, y2 * h * fy), outline=_TRUTH, width=lw
        )
    return pil


# --------------------------------------------------------------------------- the summary card
_CSS = """
.pc { border: 1px solid #e2e6f0; border-radius: 10px; padding: 10px 12px; background: #fff; font-size: 13.5px; }
.pc.err { background: #fef2f2; border-color: #fca5a5; border-left: 5px solid #dc2626; color: #7f1d1d; }
.pc.info { background: #f8fafc; border-left: 5px solid #94a3b8; color: #334155; }
.top { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
.cls { font-size: 22px; font-weight: 750; color: #0f172a; }
.score { font-size: 15px; color: #4f46e5; font-weight: 700; }
.truth { font-size: 12.5px; padding: 1px 8px; border-radius: 999px; }
.truth.ok { background: #d1fae5; color: #065f46; } .truth.bad { background: #fee2e2; color: #991b1b; }
table.tup { border-collapse: collapse; margin-top: 8px; font-variant-numeric: tabular-nums; font-size: 13px; }
table.tup th, table.tup td { padding: 3px 10px; border-bottom: 1px solid #eef2f7; text-align: right; }
table.tup th:first-child, table.tup td:first-child { text-align: left; color: #64748b; font-weight: 600; }
table.tup thead th { color: #475569; font-size: 12px; }
.src { color: #64748b; font-size: 12px; margin-top: 6px; }
.note { color: #92400e; background: #fffbeb; border: 1px solid #fde68a; border-radius: 6px; padding: 2px 8px;
  font-size: 12px; margin-top: 6px; }
.flag { color: #7c2d12; background: #ffedd5; border: 1px solid #fdba74; border-left: 4px solid #ea580c;
  border-radius: 6px; padding: 4px 9px; font-size: 12.5px; font-weight: 600; margin-top: 6px; }
"""


#: Page-wide style for the stage gallery (Gradio's captions stop at 80 % of a tile).
_HEAD = (
    "<style>#predict-stages .caption-label { max-width: 97% !important; font-size: 11.5px !important; "
    "opacity: .85 !important; }</style>"
)


def _card(kind: str, message: str) -> str:
    return f'<div class="pc {kind}" data-state="{kind}">{html.escape(message)}</div>'


def _ckpt_text(where: str, info: dict[str, Any]) -> str:
    parts = [where, f"model {info.get('model', '?')}"]
    if info.get("dataset"):
        parts.append(f"trained on {info['dataset']}")
    if info.get("step") is not None:
        parts.append(f"step {info['step']}")
    parts.append(f"{info.get('size', '?')} px input")
    parts.append(f"{len(info.get('classes', []))} classes")
    if info.get("loc_accuracy") is not None:
        parts.append(f"loc. accuracy {100 * float(info['loc_accuracy']):.1f} %")
    return " · ".join(parts)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def summary_html(
    prediction: Any,
    source: str,
    truth: Example | None,
    image_name: str,
    notes: list[str] | tuple[str, ...] = (),
    warnings: list[str] | tuple[str, ...] = (),
) -> str:
    """The predicted class and score, the 5-tuple in pixels and normalized, the truth of a known example,
    warnings (an image unlike the checkpoint's data, a checkpoint at chance level; :mod:`idfy.provenance`) and
    notes on how the image was converted (16-bit, transparency, animation, ...)."""
    p = prediction
    truth_html = ""
    if truth is not None:
        ok = truth.class_name == p.class_name
        iou = f" · IoU {_iou(p.box, truth.box):.2f}" if p.box is not None else ""
        truth_html = (
            f'<span class="truth {"ok" if ok else "bad"}">true: {html.escape(truth.class_name)}{iou} '
            "(green box)</span>"
        )
    rows = ""
    if p.tuple_pixels is not None:
        h, w = p.image_size
        px = "".join(f"<td>{v:.1f}</td>" for v in p.tuple_pixels[:4])
        nm = "".join(f"<td>{v:.3f}</td>" for v in p.tuple[:4])
        rows = (
            '<table class="tup" id="predict-tuple"><thead><tr><th>(x1, y1, x2, y2, label)</th><th>x1</th><th>y1</th>'
            "<th>x2</th><th>y2</th><th>label</th></tr></thead><tbody>"
            f"<tr><td>pixels ({w}×{h})</td>{px}<td>{p.label}</td></tr>"
            f"<tr><td>normalized</td>{nm}<td>{p.label}</td></tr></tbody></table>"
        )
    else:
        rows = '<div class="src">this checkpoint classifies only (no box)</div>'
    return (
        '<div class="pc" data-state="ok"><div class="top">'
        f'<span class="cls">{html.escape(p.class_name)}</span><span class="score">{100 * p.score:.1f} %</span>'
        f"{truth_html}</div>{rows}"
        f'<div class="src">image {html.escape(image_name)} · {html.escape(source)}</div>'
        + "".join(f'<div class="flag" data-flag="1">⚠ {html.escape(w)}</div>' for w in warnings)
        + "".join(f'<div class="note">{html.escape(n)}</div>' for n in notes)
        + "</div>"
    )


# --------------------------------------------------------------------------- handlers
def _nothing(card: str) -> tuple[Any, ...]:
    return card, None, None, [], None


def predict_image(
    image_path: str | None,
    source: str = LATEST,
    checkpoint: str | None = None,
    session: str | None = None,
    *,
    registry: JobRegistry = REGISTRY,
) -> tuple[Any, ...]:
    """Predict one image with the chosen checkpoint.

    Returns:
        (summary HTML, overlay PIL image, {class: probability}, [(stage picture, caption)], JSON-ready dict);
        on a problem the summary says what to do and the rest is empty.
    """
    try:
        try:
            loaded, where = _resolve_checkpoint(source, checkpoint, session, registry)
        except LookupError as e:
            return _nothing(_card("info", str(e)))
        except ValueError as e:
            return _nothing(_card("err", str(e)))
        src = _ckpt_text(where, loaded.info)
        if not image_path:
            return _nothing(_card("info", f"Checkpoint ready ({src}). Upload an image or pick an example."))
        name = Path(image_path).name
        try:
            decoded = decode_image(image_path, channels=3)  # one safe decode, with notes on conversions
        except ImageError as e:
            return _nothing(_card("err", str(e)))
        with loaded.lock:
            pred = loaded.predictor.predict(decoded.image)
        truth = _known_example(image_path)
        warnings = _warnings(loaded.info, decoded.image)
        data = pred.to_dict()
        data["checkpoint"] = src
        data["notes"] = list(decoded.notes)
        data["warnings"] = warnings
        return (
            summary_html(pred, src, truth, name, decoded.notes, warnings),
            _overlay(decoded.image, pred, truth),
            dict(pred.probs),
            stage_gallery(pred),
            data,
        )
    except Exception:  # never a traceback in the page
        log.exception("prediction failed")
        return _nothing(_card("err", INTERNAL_ERROR))


def _warnings(info: dict[str, Any], image: Any) -> list[str]:
    """Why this prediction may not be worth much: the checkpoint guesses (at chance level), or the image is
    unlike the checkpoint's data (:mod:`idfy.provenance`; built-in datasets only)."""
    from idfy.provenance import at_chance, foreign_image

    dataset, size = info.get("dataset"), int(info.get("size") or 64)
    out = [at_chance(info.get("metrics"), dataset, size), foreign_image(image, dataset, size)]
    return [w for w in out if w]


def _in_upload_folder(path: str) -> bool:
    from gradio.utils import get_upload_folder

    try:
        return Path(path).resolve().is_relative_to(Path(get_upload_folder()).resolve())
    except OSError:
        return False


def predict(
    image: str | None,
    source: str,
    checkpoint: str | None,
    request: gr.Request = None,  # type: ignore[assignment]  # Gradio fills it in
) -> tuple[Any, ...]:
    """Gradio handler (``/predict``): (image file, checkpoint source, uploaded .pt) -> (summary, overlay,
    probabilities, stage views, JSON). Only files Gradio received as uploads are opened."""
    for path in (image, checkpoint):
        if path and not _in_upload_folder(str(path)):
            return _nothing(_card("err", "only uploaded files can be used"))
    session = getattr(request, "session_hash", None) if request is not None else None
    return predict_image(image, source, checkpoint, session)


def pick_example(evt: gr.SelectData) -> Any:
    """An example clicked in the gallery -> it becomes the image to predict."""
    index = evt.index if isinstance(evt.index, int) else int(evt.index[0])
    if not 0 <= index < len(examples()):
        return gr.update()
    return _example_copy(index)


def _uploaded_checkpoint(path: str | None) -> Any:
    return UPLOADED if path else LATEST


# --------------------------------------------------------------------------- layout
def build(config_state: gr.State) -> None:
    """Build the Predict tab inside the current ``gr.Tab`` (``config_state`` is not used: the checkpoint holds
    its own design)."""
    with gr.Row(equal_height=False, elem_id="predict-row"):
        with gr.Column(scale=2, min_width=300, elem_id="predict-inputs"):
            image = gr.File(
                label="image (JPEG, PNG, BMP, GIF, WebP, TIFF, PPM)",
                file_types=sorted(IMAGE_EXTENSIONS),
                type="filepath",
                height=150,
                elem_id="predict-image",
            )
            gr.HTML(
                "<div style='font-size:13px;font-weight:600;color:#475569;margin:2px 2px -4px'>"
                "or pick an example <span style='font-weight:400;color:#475569'>(green box: its truth)</span></div>",
                js_on_load=None,
            )
            gallery = gr.Gallery(
                value=[(str(e.path), e.caption) for e in examples()],
                label="examples",
                show_label=False,
                columns=4,
                rows=2,
                height=250,
                buttons=[],
                allow_preview=False,
                object_fit="contain",
                interactive=False,
                elem_id="predict-examples",
            )
            source = gr.Radio(
                [LATEST, UPLOADED],
                value=LATEST,
                label="checkpoint",
                info="the model kept by this page's last training, or a .pt file written by idfy (≤ 100 MB)",
                elem_id="predict-source",
            )
            checkpoint = gr.File(
                label="checkpoint file (.pt)",
                file_types=[".pt", ".pth"],
                type="filepath",
                height=130,
                elem_id="predict-checkpoint",
            )
            run = gr.Button("Predict", variant="primary", elem_id="predict-run")
        with gr.Column(scale=3, elem_id="predict-results"):
            summary = gr.HTML(
                _card(
                    "info",
                    "Upload an image or pick an example; the model is the Train tab's latest checkpoint.",
                ),
                label="summary",
                css_template=_CSS,
                js_on_load=None,
                elem_id="predict-summary",
            )
            with gr.Row(equal_height=False):
                overlay = gr.Image(
                    type="pil",
                    format="png",
                    label="prediction (red) · truth of an example (green)",
                    interactive=False,
                    height=340,
                    scale=3,
                    elem_id="predict-overlay",
                )
                probs = gr.Label(
                    num_top_classes=5, label="class probabilities", scale=2, elem_id="predict-probs"
                )
            with gr.Accordion("the 5-tuple as JSON", open=False):
                as_json = gr.JSON(label="prediction", elem_id="predict-json")
    gr.HTML(
        "<div style='font-size:13px;font-weight:600;color:#475569;margin:4px 2px -4px'>what each stage sees "
        "<span style='font-weight:400;color:#475569'>— the image re-injected there (S1), the mean of its feature "
        "maps and its four strongest channels (each on its own colour scale)</span></div>",
        js_on_load=None,
        head=_HEAD,
    )
    stages = gr.Gallery(
        label="what each stage sees",
        show_label=False,
        columns=6,
        height="auto",
        object_fit="contain",
        allow_preview=True,
        interactive=False,
        buttons=["fullscreen"],
        elem_id="predict-stages",
    )

    inputs = [image, source, checkpoint]
    outputs = [summary, overlay, probs, stages, as_json]
    gr.on(
        triggers=[run.click, image.upload],
        fn=predict,
        inputs=inputs,
        outputs=outputs,
        api_name="predict",
    )
    gallery.select(pick_example, None, image, api_visibility="private", show_progress="hidden").then(
        predict, inputs, outputs, api_visibility="private"
    )
    checkpoint.upload(
        _uploaded_checkpoint,
        checkpoint,
        source,
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    ).then(predict, inputs, outputs, api_visibility="private")
