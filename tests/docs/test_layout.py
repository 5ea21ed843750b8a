"""The DAG layout: parents above children, no overlaps, same positions every time."""

from __future__ import annotations

import itertools

from pipec.docsite.layout import layered_layout

ORDER = ["a", "b", "c", "d", "e", "f"]
PARENTS = {"c": ["a"], "d": ["a", "b"], "e": ["c", "d"], "f": ["a", "e"]}


def test_parents_sit_above_their_children() -> None:
    layout = layered_layout(ORDER, PARENTS, node_w=100, node_h=40)
    for child, parents in PARENTS.items():
        for parent in parents:
            assert layout.y[parent] < layout.y[child]


def test_nodes_in_a_layer_do_not_overlap() -> None:
    layout = layered_layout(ORDER, PARENTS, node_w=100, node_h=40)
    for a, b in itertools.combinations(ORDER, 2):
        if layout.y[a] == layout.y[b]:
            assert abs(layout.x[a] - layout.x[b]) >= 100
    assert all(layout.x[v] >= 0 and layout.x[v] + 100 <= layout.width for v in ORDER)


def test_long_edges_are_routed_through_their_layers() -> None:
    layout = layered_layout(ORDER, PARENTS, node_w=100, node_h=40)
    route = layout.routes["a", "f"]  # a is layer 0, f is layer 3
    assert len(route) == 4
    assert [y for _, y in route] == sorted(y for _, y in route)


def test_deterministic() -> None:
    first = layered_layout(ORDER, PARENTS, node_w=100, node_h=40)
    again = layered_layout(list(ORDER), dict(PARENTS), node_w=100, node_h=40)
    assert (first.x, first.y, first.routes) == (again.x, again.y, again.routes)


def test_empty_graph() -> None:
    layout = layered_layout([], {}, node_w=100, node_h=40)
    assert layout.x == {} and layout.width > 0
