"""Same input, same bytes; no timestamps, no absolute paths."""

from __future__ import annotations

import re

from .backend_helpers import REPO, TARGETS, build

TIMESTAMP = re.compile(r"20\d\d-\d\d-\d\dT\d\d:\d\d")


def test_building_twice_gives_the_same_bytes(programs, tmp_path):
    for name, path in programs.items():
        for target in TARGETS:
            first = build(path, target, tmp_path / "out").files
            second = build(path, target, tmp_path / "out").files
            assert first == second, (name, target)


def test_no_absolute_paths_or_timestamps(programs, tmp_path):
    for path in programs.values():
        for target in TARGETS:
            # built (not written) beside the program, so `base_dir` is just ".."
            for text in build(path, target, path.parent / "out").files.values():
                assert str(REPO) not in text and str(tmp_path) not in text
                assert "/tmp/" not in text and "/home/" not in text
                assert not TIMESTAMP.search(text)


def test_lineage_base_dir_is_relative_posix(programs, tmp_path):
    import json

    path = programs["fraud_detection"]
    output = path.parent / "build-output-here"
    manifest = json.loads(build(path, "argo", output).files["lineage.json"])
    assert manifest["base_dir"] == ".."


def test_lineage_json_is_compact_and_canonical(programs, tmp_path):
    import json

    text = build(programs["fraud_detection"], "argo", tmp_path).files["lineage.json"]
    canonical = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    assert text == canonical + "\n"
