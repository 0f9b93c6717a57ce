"""Builds the :class:`~idfy.viz.graph.Graph` of one design at one detail level from its config, its stage
plan, the sub-stream / conv kind registries and an :func:`~idfy.analysis.analyze` report (shapes, costs).
"""

from __future__ import annotations

from idfy.analysis import Report, analyze, human_count
from idfy.config import ModelConfig, StageConfig, parse_order
from idfy.substreams import dense_kind
from idfy.viz.graph import (
    DETAILS,
    POOL_NOTE,
    Graph,
    Node,
    conv_text,
    conv_tooltip,
    cost_text,
    layer_title,
    node_id,
    out_shape_text,
    plain,
    shape_text,
)
from idfy.viz.terms import full, terms_in

__all__ = ["Builder", "build_graph"]


class Builder:
    """Builds the :class:`Graph` of one design at one detail level."""

    def __init__(self, cfg: ModelConfig, report: Report, detail: str) -> None:
        self.cfg, self.r, self.detail = cfg, report, detail
        self.g = Graph()
        self.order = parse_order(cfg.block.order)
        self.plan = cfg.plan()

    # -- helpers
    def image_edge(self, dst: str, shape: tuple[int, ...] | None) -> None:
        inj = self.cfg.inject
        aa = inj.antialias and inj.mode != "area"
        mode = inj.mode + (" aa" if aa else "")
        same = shape is not None and tuple(shape[1:]) == tuple(self.cfg.input.size)
        label = f"{shape_text(shape)} {'(full size)' if same else mode}"
        resized = "" if same else f" resized to {shape_text(shape)} ({inj.mode} interpolation)"
        tip = f"the input image{resized}, concatenated to the channels here (S1)"
        tip += f" · {full('aa')}" if aa and not same else ""
        self.g.edge("image", dst, label, "image", tip)

    def injection(self, module: str, cluster: str | None, prev: str, prev_shape: str) -> tuple[str, str]:
        """An image-CAT node (+ its projection) fed by ``prev``; returns (last node id, its output shape)."""
        stat = self.r.modules[module]
        img_shape = (self.cfg.input.channels, *(stat.in_shape or (0, 0, 0))[1:])
        proj = self.cfg.inject.project
        spec = [
            f"CAT +{self.cfg.input.channels} ch → 1×1 conv" if proj else f"CAT +{self.cfg.input.channels} ch"
        ]
        nid = self.g.add(
            Node(node_id(module), "inject image", "inject", spec, cost_text(self.r, module)), cluster
        )
        self.g.edge(prev, nid, prev_shape)
        self.image_edge(nid, img_shape)
        return nid, out_shape_text(self.r, module)

    def chain_leaves(
        self, module: str, cluster: str | None, prev: str, prev_shape: str, kind: str, skip: str = "\0"
    ) -> tuple[str, str]:
        """``layers`` detail: one node per leaf module under ``module`` (except those under ``skip``), chained
        in registration order. Convolutions take the colour ``kind``; other layers (norm, act, pool, linear)
        a neutral one."""
        leaves = [
            n
            for n, s in self.r.modules.items()
            if s.leaf
            and n.startswith(module + ".")
            and not n.startswith(skip + ".")
            and s.calls
            and s.kind != "Dropout"
        ]
        for name in leaves:
            s = self.r.modules[name]
            conv = s.conv
            title = layer_title(s.kind, conv)
            node_kind = kind if conv is not None or kind == "head" else "layer"
            cost = cost_text(self.r, name)
            tip = full("g d s") if "g d s" in terms_in([title]) else ""
            nid = self.g.add(Node(node_id(name), title, node_kind, [name], cost, tooltip=tip), cluster)
            self.g.edge(prev, nid, prev_shape)
            prev, prev_shape = nid, shape_text(s.out_shape)
        return prev, prev_shape

    # -- parts
    def image(self) -> tuple[str, str]:
        c, h, w = self.r.input_shape
        scale = self.cfg.input.scale
        spec = [f"{c}×{h}×{w} in [0, 1]"] + ([f"× {scale:g} (S9 input scale)"] if scale != 1 else [])
        self.g.add(Node("image", "image", "image", spec, shape="box"))
        return "image", shape_text(self.r.input_shape)

    def stem(self, prev: str, prev_shape: str) -> tuple[str, str]:
        st = self.cfg.stem
        if st is None:
            return prev, prev_shape
        self.g.clusters["cluster_stem"] = (f"stem · {out_shape_text(self.r, 'stem')}", [])
        if self.detail == "layers":  # the injection is drawn as one node below
            prev, prev_shape = self.chain_leaves(
                "stem", "cluster_stem", prev, prev_shape, "stem", "stem.inject"
            )
        else:
            spec = [f"{conv_text(st.conv, st.kernel)} s{st.stride} → {st.width}", "norm · act"]
            cost = cost_text(self.r, "stem.conv", "stem.norm", "stem.act")
            tip = conv_tooltip(st.conv, st.kernel)
            self.g.add(Node("stem", "stem conv", "stem", spec, cost, tooltip=tip), "cluster_stem")
            self.g.edge(prev, "stem", prev_shape)
            prev, prev_shape = "stem", out_shape_text(self.r, "stem.act")
        if self.cfg.inject.stem:
            prev, prev_shape = self.injection("stem.inject", "cluster_stem", prev, prev_shape)
        return prev, prev_shape

    def stage(self, i: int, prev: str, prev_shape: str) -> tuple[str, str]:
        sc: StageConfig = self.cfg.stages[i]
        name = f"stages.{i}"
        row = self.r.stage(name)
        rf = f"RF {row.rf}px" + (" + global" if row.rf_global else "")
        cluster = f"cluster_stage_{i}"
        # named as the page and the per-stage table name it: stage 1 is the first stage (module stages.0)
        self.g.clusters[cluster] = (f"stage {i + 1} · {shape_text(row.out_shape)} · {rf}", [])
        if self.plan.stages[i].pool:
            nid = self.g.add(
                Node(node_id(f"{name}.down"), f"{sc.down} 2×2", "pool", [POOL_NOTE[sc.down]]), cluster
            )
            self.g.edge(prev, nid, prev_shape)
            prev, prev_shape = nid, out_shape_text(self.r, f"{name}.down")
        if sc.inject:
            prev, prev_shape = self.injection(f"{name}.inject", cluster, prev, prev_shape)
        if self.detail == "stages":
            prev, prev_shape = self.blocks_compact(i, cluster, prev, prev_shape)
        else:
            for j in range(sc.depth):
                prev, prev_shape = self.block(i, j, cluster, prev, prev_shape)
        if sc.has_substreams:
            prev, prev_shape = self.substreams(i, cluster, prev, prev_shape)
        return prev, prev_shape

    def blocks_compact(self, i: int, cluster: str, prev: str, prev_shape: str) -> tuple[str, str]:
        sc = self.cfg.stages[i]
        name = f"stages.{i}.blocks"
        spec = [f"{conv_text(sc.conv, self.cfg.block.kernel)} → {sc.width}", f"order {self.cfg.block.order}"]
        if self.plan.stages[i].strided_conv:
            spec.append("↓2: stride-2 first conv + 1×1 s2 shortcut")
        title = f"{sc.depth} × residual block" if sc.depth > 1 else "residual block"
        tip = conv_tooltip(sc.conv, self.cfg.block.kernel)
        nid = self.g.add(
            Node(node_id(name), title, sc.conv.kind, spec, cost_text(self.r, name), tooltip=tip), cluster
        )
        self.g.edge(prev, nid, prev_shape)
        return nid, out_shape_text(self.r, name)

    def block(self, i: int, j: int, cluster: str, prev: str, prev_shape: str) -> tuple[str, str]:
        sc = self.cfg.stages[i]
        name = f"stages.{i}.blocks.{j}"
        stride = self.plan.stages[i].blocks[j].stride
        split = self.order.index("add")
        if self.detail == "layers":
            end, end_shape = self.chain_leaves(f"{name}.branch", cluster, prev, prev_shape, sc.conv.kind)
        else:
            spec = [
                " · ".join(self.order[:split]),
                f"{conv_text(sc.conv, self.cfg.block.kernel)} → {sc.width}",
            ]
            if stride == 2:
                spec.append("first conv stride 2 (↓2)")
            end = self.g.add(
                Node(
                    node_id(f"{name}.branch"),
                    f"block {j + 1} of stage {i + 1}",
                    sc.conv.kind,
                    spec,
                    cost_text(self.r, f"{name}.branch"),
                    tooltip=conv_tooltip(sc.conv, self.cfg.block.kernel),
                ),
                cluster,
            )
            self.g.edge(prev, end, prev_shape)
            end_shape = out_shape_text(self.r, f"{name}.branch")
        post = self.order[split + 1 :]
        add_title = "+" + (" → " + " · ".join(post) if post else "")
        add = self.g.add(Node(node_id(f"{name}.add"), add_title, "add", [], shape="ellipse"), cluster)
        self.g.edge(end, add, end_shape)
        short = self.r.modules.get(f"{name}.shortcut")
        if short is not None and short.kind != "Identity":
            s = self.r.modules[f"{name}.shortcut.0"]
            conv_spec = [f"1×1 conv s{stride} → {sc.width}"]
            sid = self.g.add(
                Node(
                    node_id(f"{name}.shortcut"),
                    "shortcut",
                    "layer",
                    conv_spec,
                    cost_text(self.r, f"{name}.shortcut"),
                ),
                cluster,
            )
            self.g.edge(prev, sid, prev_shape, "skip")
            self.g.edge(
                sid,
                add,
                shape_text(s.out_shape) if stride == 1 else out_shape_text(self.r, f"{name}.shortcut"),
                "skip",
            )
        else:
            self.g.edge(prev, add, "identity", "skip")
        return add, out_shape_text(self.r, name)

    def substreams(self, i: int, cluster: str, prev: str, prev_shape: str) -> tuple[str, str]:
        sc = self.cfg.stages[i]
        base = f"stages.{i}.fusion"
        inputs = [(prev, prev_shape, "main")]
        if sc.gaussian.enabled:
            g = sc.gaussian
            sig = ", ".join(f"{s:g}" for s in g.sigmas)
            spec = [f"{'DoG' if g.dog else 'Gaussian'} σ {sig}" + (" (learnable)" if g.learnable else "")]
            spec.append(f"1×1 conv → {sc.gaussian_width()}")
            mod = f"{base}.streams.gaussian"
            nid = self.g.add(
                Node(
                    node_id(f"stages.{i}.gaussian"),
                    "Gaussian stream",
                    "gaussian",
                    spec,
                    cost_text(self.r, mod),
                ),
                cluster,
            )
            self.g.edge(prev, nid, prev_shape, "stream")
            inputs.append((nid, out_shape_text(self.r, mod), "stream"))
        if sc.dense.kind != "none":
            d = sc.dense
            kind = dense_kind(d.kind)
            tail = "broadcast H×W" if kind.global_ else "H×W"
            spec = [f"{kind.title} r{d.reduction}", f"→ {sc.dense_width()} ch, {tail}"]
            mod = f"{base}.streams.dense"
            node_kind = f"dense:{d.kind}"
            nid = self.g.add(
                Node(node_id(f"stages.{i}.dense"), "dense stream", node_kind, spec, cost_text(self.r, mod)),
                cluster,
            )
            self.g.edge(prev, nid, prev_shape, "stream")
            inputs.append((nid, out_shape_text(self.r, mod), "stream"))
        spec = [f"1×1 conv → {sc.width}" if sc.fuse_project else f"→ {sc.out_channels()} ch (no projection)"]
        fid = self.g.add(
            Node(node_id(base), "CAT fusion", "fusion", spec, cost_text(self.r, f"{base}.proj")), cluster
        )
        for src, shape, kind in inputs:
            self.g.edge(src, fid, shape, kind)
        return fid, out_shape_text(self.r, base)

    def head(self, prev: str, prev_shape: str) -> None:
        hc = self.cfg.head
        if self.cfg.inject.head:
            self.g.clusters["cluster_head"] = ("head", [])
            prev, prev_shape = self.injection("head_inject", "cluster_head", prev, prev_shape)
        else:
            self.g.clusters["cluster_head"] = ("head", [])
        if self.detail == "layers":
            prev, prev_shape = self.chain_leaves("head", "cluster_head", prev, prev_shape, "head")
        else:
            widths = " → ".join(str(w) for w in hc.widths)
            if hc.kind == "flatten":
                spec = ["flatten", f"FC {widths} → {self.cfg.num_outputs}" if widths else "FC"]
            else:
                spec = [
                    f"1×1 convs {widths}" if widths else "no 1×1 convs",
                    f"global avg pool · FC → {self.cfg.num_outputs}",
                ]
            self.g.add(Node("head", "head", "head", spec, cost_text(self.r, "head")), "cluster_head")
            self.g.edge(prev, "head", prev_shape)
            prev, prev_shape = "head", out_shape_text(self.r, "head")
        n = self.cfg.num_classes
        what = f"4 box + {n} class logits" if self.cfg.task == "localize" else f"{n} class logits"
        spec = [what] + (["→ (x1, y1, x2, y2, label)"] if self.cfg.task == "localize" else [])
        self.g.add(Node("output", "output", "output", spec, shape="box"))
        self.g.edge(prev, "output", prev_shape)

    def build(self) -> Graph:
        prev, shape = self.image()
        prev, shape = self.stem(prev, shape)
        for i in range(len(self.cfg.stages)):
            prev, shape = self.stage(i, prev, shape)
        self.head(prev, shape)
        r = self.r
        self.g.title = (
            f"{plain(self.cfg.name)} · {human_count(r.params_total)} params · {human_count(r.macs)} MACs "
            f"({human_count(r.flops)} FLOPs = 2 × MACs) · input {shape_text(r.input_shape)}"
        )
        return self.g


def _report_for(cfg: ModelConfig, report: Report | None) -> Report:
    if report is not None:
        if report.fingerprint != cfg.fingerprint():
            raise ValueError("report was made for another config (fingerprints differ)")
        return report
    return analyze(cfg, device="cpu")


def build_graph(cfg: ModelConfig, detail: str, report: Report | None) -> Graph:
    if detail not in DETAILS:
        raise ValueError(f"detail={detail!r}: choose from {', '.join(DETAILS)}")
    return Builder(cfg, _report_for(cfg, report), detail).build()
