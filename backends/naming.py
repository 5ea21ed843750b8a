"""Stage ids and pipeline names -> the naming rules of each target.

Stage ids are `KIND.NAME` (KIND one of `STAGE_KINDS`, NAME an identifier
`[a-z_][a-z0-9_]*`), or `join` / `split`. Pipeline names are identifiers.

**Airflow task ids** (`task_id`): `.` -> `__`, everything else kept. Airflow accepts
`[A-Za-z0-9_.-]`, but a `.` reads as a task-group separator in its UI. Injective on
stage ids: no KIND contains `_`, so the first `__` of a result is exactly where the `.`
was (`train__a__b` can only come from `train.a__b`); `join` and `split` contain no
`__`. Inverse: `stage_id_of_task`.

**Kubernetes / Argo names** (`dns_label`): lowercase DNS-1123 labels, `[a-z0-9-]`,
alphanumeric at both ends, at most 63 characters. `.` and `_` both become `-`, which is
not injective by itself (`train.x` and a pipeline `train_x` would both be `train-x`),
so the plain form is used only inside a family where it is:

- `KIND.W` and `W` (KIND a stage kind or `drift`), where W is `[a-z0-9]+(_[a-z0-9]+)*`
  (no leading, trailing or doubled `_`) and a dotless W does not start with `KIND_`.
  Read back: a result that starts with `KIND-` came from `KIND.W`, otherwise from `W`,
  and every other `-` was a `_`.
  Plain results never contain `--`.
- Everything else (names such as `_x`, `a__b`, `train_x`, or a result over the length
  limit) is `HEAD--H`, where H is the first 10 hex digits of the sha256 of the whole
  input, and HEAD the sanitised input cut to fit. These always contain `--`, so they
  never meet a plain result; two of them meet only on a 40-bit hash collision, and
  lowering checks every mapping it uses for duplicates anyway.
"""

from __future__ import annotations

import hashlib
import re

STAGE_KINDS = ("source", "validate", "label", "features", "join", "split", "train",
               "evaluate", "register", "approval", "deploy")
# `drift.COLUMN` names a retraining trigger (see triggers.py), never a stage.
_KIND = "|".join((*STAGE_KINDS, "drift"))
_WORD = r"[a-z0-9]+(?:_[a-z0-9]+)*"
_PLAIN_DOTTED = re.compile(rf"(?:{_KIND})\.{_WORD}")
_PLAIN_DOTLESS = re.compile(_WORD)
_KIND_PREFIX = re.compile(rf"(?:{_KIND})_")
_STAGE_ID = re.compile(rf"(?:(?:{'|'.join(STAGE_KINDS)})\.[a-z_][a-z0-9_]*|join|split)")
_LABEL_VALUE_BAD = re.compile(r"[^A-Za-z0-9_.-]+")

AIRFLOW_MAX_ID = 250
DNS_LABEL_MAX = 63
HASH_DIGITS = 10


def task_id(stage_id: str) -> str:
    """The Airflow task id of a stage (see the module docstring)."""
    if not _STAGE_ID.fullmatch(stage_id):
        raise ValueError(f"not a pipec stage id: {stage_id!r}")
    return stage_id.replace(".", "__", 1)


def stage_id_of_task(task: str) -> str:
    """The inverse of `task_id`."""
    kind, sep, name = task.partition("__")
    return f"{kind}.{name}" if sep else kind


def _plain(identifier: str) -> bool:
    if _PLAIN_DOTTED.fullmatch(identifier):
        return True
    return bool(_PLAIN_DOTLESS.fullmatch(identifier)) and not _KIND_PREFIX.match(identifier)


def dns_label(identifier: str, limit: int = DNS_LABEL_MAX) -> str:
    """The DNS-1123 label for a stage id or pipeline name (see the module docstring)."""
    simple = identifier.replace(".", "-").replace("_", "-")
    if _plain(identifier) and len(simple) <= limit:
        return simple
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:HASH_DIGITS]
    head = re.sub(r"[^a-z0-9]+", "-", identifier.lower()).strip("-")
    head = head[: limit - HASH_DIGITS - 2].rstrip("-") or "x"
    return f"{head}--{digest}"


def label_value(value: object) -> str:
    """A Kubernetes label value: at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric
    at both ends (or empty). Lossy on purpose: the exact value goes in an annotation."""
    text = _LABEL_VALUE_BAD.sub("-", str(value))[:63]
    return text.strip("-_.")
