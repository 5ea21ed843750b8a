"""A layered (Sugiyama-style) layout of a DAG, top to bottom, computed here so the
page needs no script and no network: longest-path layering, dummy nodes on long
edges, barycentric ordering within layers, then x positions pulled towards the
neighbours. Deterministic: every tie is broken by the current order, which starts
from the manifest's topological order."""

from __future__ import annotations

from dataclasses import dataclass, field

SWEEPS = 8


@dataclass
class Layout:
    x: dict[str, float]
    y: dict[str, float]
    width: float
    height: float
    # (parent, child) -> the points the edge passes through, parent to child
    routes: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)


@dataclass
class _Graph:
    layers: list[list[str]]
    up: dict[str, list[str]]
    down: dict[str, list[str]]
    chains: dict[tuple[str, str], list[str]]
    real: set[str]


def layered_layout(order: list[str], parents: dict[str, list[str]], node_w: float,
                   node_h: float, gap_x: float = 36, gap_y: float = 44,
                   margin: float = 16) -> Layout:
    """Positions (top-left corners) for every node in `order` (a topological order)."""
    graph = _layered(order, parents)
    _order_layers(graph)
    slot = {v: (node_w if v in graph.real else 12) for vs in graph.layers for v in vs}
    centres = _x_positions(graph, slot, gap_x)
    shift = margin - min((centres[v] - slot[v] / 2 for v in centres), default=0)
    x = {v: centres[v] + shift for v in centres}
    y = {v: margin + i * (node_h + gap_y) for i, vs in enumerate(graph.layers) for v in vs}
    width = max((x[v] + slot[v] / 2 for v in x), default=0) + margin
    height = margin * 2 + len(graph.layers) * (node_h + gap_y) - gap_y
    routes = {}
    for (parent, child), chain in graph.chains.items():
        points = [(x[parent], y[parent] + node_h)]
        points += [(x[d], y[d] + node_h / 2) for d in chain]
        points.append((x[child], y[child]))
        routes[parent, child] = points
    return Layout({v: x[v] - node_w / 2 for v in order}, {v: y[v] for v in order},
                  max(width, 2 * margin), max(height, 2 * margin), routes)


def _layered(order: list[str], parents: dict[str, list[str]]) -> _Graph:
    layer: dict[str, int] = {}
    for node in order:  # longest path from a root
        layer[node] = max((layer[p] + 1 for p in parents.get(node, []) if p in layer),
                          default=0)
    layers: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for node in order:
        layers[layer[node]].append(node)
    graph = _Graph(layers, {v: [] for v in order}, {v: [] for v in order}, {}, set(order))
    for child in order:
        for parent in sorted(p for p in parents.get(child, []) if p in layer):
            _add_chain(graph, parent, child, layer)
    return graph


def _add_chain(graph: _Graph, parent: str, child: str, layer: dict[str, int]) -> None:
    """An edge across several layers becomes a chain through one dummy per layer."""
    chain = [f"\0{parent}\0{child}\0{k}" for k in range(layer[parent] + 1, layer[child])]
    for dummy, k in zip(chain, range(layer[parent] + 1, layer[child]), strict=True):
        graph.layers[k].append(dummy)
        graph.up[dummy], graph.down[dummy] = [], []
    path = [parent, *chain, child]
    for upper, lower in zip(path, path[1:], strict=False):
        graph.down[upper].append(lower)
        graph.up[lower].append(upper)
    graph.chains[parent, child] = chain


def _order_layers(graph: _Graph) -> None:
    """Barycentric sweeps down and up; keeps the ordering with the fewest crossings."""
    best = [list(vs) for vs in graph.layers]
    best_crossings = _crossings(graph)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(graph.layers)) if downward \
            else range(len(graph.layers) - 2, -1, -1)
        for i in indices:
            ref = graph.layers[i - 1] if downward else graph.layers[i + 1]
            graph.layers[i] = _by_barycentre(graph.layers[i], ref,
                                             graph.up if downward else graph.down)
        crossings = _crossings(graph)
        if crossings < best_crossings:
            best, best_crossings = [list(vs) for vs in graph.layers], crossings
    graph.layers = best


def _by_barycentre(nodes: list[str], ref: list[str], links: dict[str, list[str]]) -> list[str]:
    where = {v: i for i, v in enumerate(ref)}

    def key(item: tuple[int, str]) -> float:
        index, node = item
        near = [where[v] for v in links[node] if v in where]
        return sum(near) / len(near) if near else float(index)

    return [v for _, v in sorted(enumerate(nodes), key=lambda item: (key(item), item[0]))]


def _crossings(graph: _Graph) -> int:
    """Pairs of edges between adjacent layers that cross: an edge from a left node to a
    right one and one from further right to further left."""
    total = 0
    for upper, lower in zip(graph.layers, graph.layers[1:], strict=False):
        where = {v: i for i, v in enumerate(lower)}
        edges = sorted((i, where[w]) for i, v in enumerate(upper) for w in graph.down[v])
        total += _inversions([end for _start, end in edges], len(lower))
    return total


def _inversions(ends: list[int], size: int) -> int:
    """Pairs i < j with ends[i] > ends[j], counted with a Fenwick tree over the lower
    layer's positions: with edges sorted by (start, end), exactly the crossing pairs
    (edges from one node, or to one node, never cross). Comparing every pair was
    quadratic in the edges: `pipec docs` of 10,000 stages took over a minute."""
    tree = [0] * (size + 1)
    total = 0
    for seen, end in enumerate(ends):
        at_most = 0  # earlier ends <= end
        i = end + 1
        while i > 0:
            at_most += tree[i]
            i -= i & -i
        total += seen - at_most
        i = end + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return total


def _x_positions(graph: _Graph, slot: dict[str, float], gap: float) -> dict[str, float]:
    """Centres: packed per layer, then pulled towards the neighbours' mean, in order."""
    x: dict[str, float] = {}
    for vs in graph.layers:
        cursor = 0.0
        for v in vs:
            x[v] = cursor + slot[v] / 2
            cursor += slot[v] + gap
    for sweep in range(4):
        links = graph.up if sweep % 2 == 0 else graph.down
        layers = graph.layers if sweep % 2 == 0 else list(reversed(graph.layers))
        for vs in layers:
            wanted = [_mean([x[w] for w in links[v]], x[v]) for v in vs]
            _place(vs, wanted, slot, gap, x)
    return x


def _place(nodes: list[str], wanted: list[float], slot: dict[str, float], gap: float,
           x: dict[str, float]) -> None:
    """As close to `wanted` as order and spacing allow: the mean of a push-right and a
    push-left placement (both keep the spacing, so their mean does too)."""
    def spacing(i: int) -> float:
        return (slot[nodes[i]] + slot[nodes[i + 1]]) / 2 + gap

    right, left = list(wanted), list(wanted)
    for i in range(1, len(nodes)):
        right[i] = max(right[i], right[i - 1] + spacing(i - 1))
    for i in range(len(nodes) - 2, -1, -1):
        left[i] = min(left[i], left[i + 1] - spacing(i))
    for node, a, b in zip(nodes, right, left, strict=True):
        x[node] = (a + b) / 2


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default
