"""The pipeline DAG as inline SVG: layered layout, nodes coloured by owner and linked
to their section. Every user string goes through `escape` (text and attributes)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from pipec.docsite.layout import layered_layout
from pipec.docsite.text import UNDECLARED, stage_anchor

NODE_H = 46
CHAR_W = 7.2  # average advance of the 12px sans-serif face, for sizing boxes
MAX_CHARS = 40


def render_svg(pipeline: dict[str, Any], colours: dict[str, str]) -> Markup:
    order = pipeline["order"]
    labels = {sid: (_clip(sid), _clip(_owner_text(pipeline["nodes"][sid]))) for sid in order}
    longest = max((len(t) for pair in labels.values() for t in pair), default=10)
    node_w = max(150.0, longest * CHAR_W + 24)
    layout = layered_layout(order, pipeline["parent_map"], node_w, NODE_H)
    marker = f"arrow-{stage_anchor(pipeline['slug'], 'dag')}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dag" role="img" '
        f'viewBox="0 0 {_n(layout.width)} {_n(layout.height)}" width="{_n(layout.width)}" '
        f'height="{_n(layout.height)}" aria-label="{escape(pipeline["name"])} DAG">',
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for edge in pipeline["edges"]:
        points = layout.routes[edge["source"], edge["target"]]
        parts.append(f'<path class="edge" d="{_curve(points)}" marker-end="url(#{marker})">'
                     f'<title>{escape(edge["source"])} \u2192 {escape(edge["target"])}: '
                     f'{escape(edge["artifact"])}</title></path>')
    for sid in order:
        node = pipeline["nodes"][sid]
        parts.append(_node(pipeline, node, labels[sid], layout.x[sid], layout.y[sid],
                           node_w, colours))
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _node(pipeline: dict[str, Any], node: dict[str, Any], label: tuple[str, str],
          x: float, y: float, width: float, colours: dict[str, str]) -> str:
    owner = node["owner"]
    declared = owner is not None and owner in pipeline["teams"] and owner in colours
    fill = colours[owner] if declared else UNDECLARED
    css = "node" if declared else "node undeclared"
    centre = x + width / 2
    title = f"{node['id']} ({node['kind']}) owner: {owner or 'none'}"
    return (
        f'<a href="#{stage_anchor(pipeline["slug"], node["id"])}" class="{css}">'
        f'<title>{escape(title)}</title>'
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{NODE_H}" rx="8" '
        f'fill="{fill}"/>'
        f'<text x="{_n(centre)}" y="{_n(y + 19)}" class="id">{escape(label[0])}</text>'
        f'<text x="{_n(centre)}" y="{_n(y + 36)}" class="owner">{escape(label[1])}</text>'
        "</a>")


def _owner_text(node: dict[str, Any]) -> str:
    owners = node["owners"]
    if not owners:
        return "no owner"
    return owners[0] + (f" +{len(owners) - 1}" if len(owners) > 1 else "")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "\u2026"


def _curve(points: list[tuple[float, float]]) -> str:
    """A smooth vertical S-curve through each consecutive pair of points."""
    x0, y0 = points[0]
    d = [f"M{_n(x0)},{_n(y0)}"]
    for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
        mid = (ya + yb) / 2
        d.append(f"C{_n(xa)},{_n(mid)} {_n(xb)},{_n(mid)} {_n(xb)},{_n(yb)}")
    return " ".join(d)


def _n(number: float) -> str:
    """Coordinates with one decimal and no `-0.0`: the same bytes on every machine."""
    text = f"{round(number, 1):.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
