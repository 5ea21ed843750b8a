"""Models as canonical bytes: skops (no pickle, so loading executes no code) rewritten
into a zip whose bytes depend only on the model.

skops names its array files and memo ids after `id(obj)`, i.e. memory addresses, so the
same model dumped twice gives different bytes. `canonical_skops` renumbers both in the
order they first appear in `schema.json`, and writes the entries sorted, stored (no
compression level to drift), with a fixed 1980-01-01 time and fixed permissions. The
registry hashes these bytes; the same inputs give the same model hash in any process.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SCHEMA = "schema.json"
# Types a stored model may contain: loading anything else is refused. `functools.partial`
# is safe to trust on its own because skops checks the function it wraps separately.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.")
TRUSTED_NAMES = frozenset({"functools.partial"})


class ModelIntegrityError(Exception):
    """A stored model whose bytes do not match its hash, or that holds untrusted types."""


def dumps(model: Any) -> bytes:
    import skops.io as sio

    return canonical_skops(sio.dumps(model))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_skops(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read(SCHEMA))
        ids: dict[int, int] = {}
        files: dict[str, str] = {}
        schema = _renumber(schema, ids, files)
        entries = {new: source.read(old) for old, new in files.items()}
    entries[SCHEMA] = json.dumps(schema, indent=2, sort_keys=False).encode("utf-8")
    return _zip(entries)


def _renumber(node: Any, ids: dict[int, int], files: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_renumber(item, ids, files) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "__id__" and isinstance(value, int):
            out[key] = ids.setdefault(value, len(ids) + 1)
        elif key == "file" and isinstance(value, str):
            out[key] = files.setdefault(value, f"{len(files) + 1:06d}.npy")
        else:
            out[key] = _renumber(value, ids, files)
    return out


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as target:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            target.writestr(info, entries[name])
    return buffer.getvalue()


def loads(data: bytes, expected_sha256: str, allowed_modules: tuple[str, ...] = ()) -> Any:
    """Verify the bytes against their hash, refuse untrusted types, then load.

    `allowed_modules`: the project's `allowed_model_modules` beside scikit-learn (a model
    class of its own, `my_model.MyModel`): its types are trusted as the project trusted
    them to train."""
    import skops.io as sio

    actual = sha256(data)
    if actual != expected_sha256:
        raise ModelIntegrityError(
            f"model bytes hash to {actual[:12]}…, but the registry recorded "
            f"{expected_sha256[:12]}…: the artifact was altered or corrupted; refusing to load")
    untrusted = sio.get_untrusted_types(data=data)
    prefixes = TRUSTED_PREFIXES + tuple(f"{module}." for module in allowed_modules)
    refused = [t for t in untrusted if not t.startswith(prefixes) and t not in TRUSTED_NAMES]
    if refused:
        raise ModelIntegrityError(f"the model contains types outside the allowed modules: "
                                  f"{', '.join(sorted(refused))}; nothing of it was loaded "
                                  f"or run{_allow_hint(refused)}")
    return sio.loads(data, trusted=untrusted)


def _allow_hint(refused: list[str]) -> str:
    """What lets a project load its own model class again (a module dropped from
    `allowed_model_modules` since it was trained); none for the standard library's
    types, which no model needs to hold."""
    import sys

    modules = sorted({t.partition(".")[0] for t in refused} - set(sys.stdlib_module_names)
                     - {"builtins"})
    if not modules:
        return ""
    return (f". If the project trusts that code, add {', '.join(f'`{m}`' for m in modules)} "
            "to [tool.pipec] allowed_model_modules in pyproject.toml")
