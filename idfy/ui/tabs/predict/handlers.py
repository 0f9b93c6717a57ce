"""The Predict tab's handlers: an image and a checkpoint in, ``{name: value}`` out — the summary card (class,
score, the seed's 5-tuple in pixels and normalized, warnings, notes), the overlay, the class probabilities,
what each stage sees (and a note on what that is for the checkpoint's design) and the prediction as JSON."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import gradio as gr
import torch
from gradio.utils import get_upload_folder
from torchvision.ops import box_iou

from idfy.data import ImageError, decode_image
from idfy.provenance import at_chance, foreign_image
from idfy.ui.jobs import REGISTRY, JobRegistry
from idfy.ui.tabs.predict.checkpoints import LATEST, UPLOADED, resolve_checkpoint
from idfy.ui.tabs.predict.examples import Example, example_copy, examples, known_example
from idfy.ui.tabs.predict.pictures import overlay, stage_gallery, stage_note

__all__ = ["OUTPUTS", "pick_example", "predict", "predict_image", "summary_html", "uploaded_checkpoint"]

log = logging.getLogger("idfy.ui")

INTERNAL_ERROR = "the prediction failed unexpectedly (the details are in the server log)"
#: What a prediction shows: summary card, overlay, class probabilities, stage views, the note on what the stage
#: views show for the checkpoint's design, the prediction as JSON.
OUTPUTS = ("summary", "overlay", "probs", "stages", "note", "json")


def card(kind: str, message: str) -> str:
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


def box_iou_xyxy(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """IoU of two ``(x1, y1, x2, y2)`` boxes (any unit, the same for both) by ``torchvision.ops.box_iou``;
    0 when they do not overlap or have no area."""
    iou = box_iou(torch.tensor([a[:4]], dtype=torch.float64), torch.tensor([b[:4]], dtype=torch.float64))
    value = float(iou[0, 0])
    return value if value == value else 0.0  # NaN: both boxes without area


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
        iou = f" · IoU {box_iou_xyxy(p.box, truth.box):.2f}" if p.box is not None else ""
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


def _nothing(card: str, note: str | None = None) -> dict[str, Any]:
    """No prediction: the card says why; the stage note is the checkpoint's when one was loaded."""
    return {
        "summary": card,
        "overlay": None,
        "probs": None,
        "stages": [],
        "note": note or stage_note(None),
        "json": None,
    }


def predict_image(
    image_path: str | None,
    source: str = LATEST,
    checkpoint: str | None = None,
    session: str | None = None,
    *,
    registry: JobRegistry = REGISTRY,
) -> dict[str, Any]:
    """Predict one image with the chosen checkpoint.

    Returns:
        ``{name: value}`` for every name of :data:`OUTPUTS`: ``summary`` (HTML card), ``overlay`` (PIL image),
        ``probs`` ({class: probability}), ``stages`` ([(stage picture, caption)]), ``note`` (HTML: what the stage
        views show for the checkpoint's design, :func:`~idfy.ui.tabs.predict.pictures.stage_note`), ``json``
        (JSON-ready dict); on a problem the summary says what to do, the note is the loaded checkpoint's (the
        general one without a checkpoint) and the rest is empty.
    """
    try:
        try:
            loaded, where = resolve_checkpoint(source, checkpoint, session, registry)
        except LookupError as e:
            return _nothing(card("info", str(e)))
        except ValueError as e:
            return _nothing(card("err", str(e)))
        src = _ckpt_text(where, loaded.info)
        note = stage_note(loaded.predictor.cfg)
        if not image_path:
            return _nothing(
                card("info", f"Checkpoint ready ({src}). Upload an image or pick an example."), note
            )
        name = Path(image_path).name
        try:
            decoded = decode_image(image_path, channels=3)  # one safe decode, with notes on conversions
        except ImageError as e:
            return _nothing(card("err", str(e)), note)
        with loaded.lock:
            pred = loaded.predictor.predict(decoded.image)
        truth = known_example(image_path)
        warnings = _warnings(loaded.info, decoded.image)
        data = pred.to_dict()
        data["checkpoint"] = src
        data["notes"] = list(decoded.notes)
        data["warnings"] = warnings
        return {
            "summary": summary_html(pred, src, truth, name, decoded.notes, warnings),
            "overlay": overlay(decoded.image, pred, truth),
            "probs": dict(pred.probs),
            "stages": stage_gallery(pred),
            "note": note,
            "json": data,
        }
    except Exception:  # never a traceback in the page
        log.exception("prediction failed")
        return _nothing(card("err", INTERNAL_ERROR))


def _warnings(info: dict[str, Any], image: Any) -> list[str]:
    """Why this prediction may not be worth much: the checkpoint guesses (at chance level), or the image is
    unlike the checkpoint's data (:mod:`idfy.provenance`; built-in datasets only)."""
    dataset, size = info.get("dataset"), int(info.get("size") or 64)
    out = [at_chance(info.get("metrics"), dataset, size), foreign_image(image, dataset, size)]
    return [w for w in out if w]


def _in_upload_folder(path: str) -> bool:
    try:
        return Path(path).resolve().is_relative_to(Path(get_upload_folder()).resolve())
    except OSError:
        return False


def predict(
    image: str | None,
    source: str,
    checkpoint: str | None,
    request: gr.Request = None,  # type: ignore[assignment]  # Gradio fills it in
) -> dict[str, Any]:
    """Gradio handler (``/predict``): (image file, checkpoint source, uploaded .pt) -> ``{name: value}`` of
    :data:`OUTPUTS` (see :func:`predict_image`). Only files Gradio received as uploads are opened."""
    for path in (image, checkpoint):
        if path and not _in_upload_folder(str(path)):
            return _nothing(card("err", "only uploaded files can be used"))
    session = getattr(request, "session_hash", None) if request is not None else None
    return predict_image(image, source, checkpoint, session)


def pick_example(evt: gr.SelectData) -> dict[str, Any]:
    """An example clicked in the gallery -> ``{"image": path}``: it becomes the image to predict."""
    index = evt.index if isinstance(evt.index, int) else int(evt.index[0])
    if not 0 <= index < len(examples()):
        return {}
    return {"image": example_copy(index)}


def uploaded_checkpoint(path: str | None) -> dict[str, Any]:
    """A checkpoint uploaded -> ``{"source": ...}``: the source switches to it (back when it is removed)."""
    return {"source": UPLOADED if path else LATEST}
