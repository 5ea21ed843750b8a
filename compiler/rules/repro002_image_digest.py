"""REPRO002: a registering pipeline without an image pinned by digest."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error
from pipec.model import Program
from pipec.rules import rule

DOC = '''
## What it does
In a pipeline that registers a model, requires `image "..."` on the pipeline, pinned
by a digest: `@sha256:` followed by 64 lowercase hexadecimal digits.

## Why is this bad?
A tag such as `:latest` or `:v3` can be moved to another image. The registered model
then cannot be retrained with the libraries it was trained with, and a library upgrade
changes results without a trace in the lineage.

## Example
```pipe
pipeline p {
  image "registry.example.com/train:latest"
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  register m {
    registry local "registry/"
  }
}
```

## Use instead
```pipe
pipeline p {
  image "r.example.com/t@sha256:4b1c0f9e2d7a8c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d"
  train m {
    model "sklearn.linear_model.LogisticRegression"
  }
  register m {
    registry local "registry/"
  }
}
```
'''

# The whole string is one image reference, `NAME[:TAG]@sha256:<64 hex>`: a digest after
# a space (`"t:latest # @sha256:..."`) or with no name in front pins nothing.
DIGEST = re.compile(r"[^\s@]+@sha256:[0-9a-f]{64}")
UPPER_DIGEST = re.compile(r"[^\s@]+@sha256:[0-9a-fA-F]{64}")


def pinned(program: Program) -> bool:
    image = program.pipeline_setting("image")
    return image is not None and isinstance(image.value, n.Str) \
        and DIGEST.fullmatch(image.value.value) is not None


@rule("REPRO002", "error", "a registering pipeline without an image pinned by digest", DOC)
def check(program: Program) -> Iterator[Diagnostic]:
    if program.pipeline is None or not program.blocks("register"):
        return
    image = program.pipeline_setting("image")
    if image is None:
        yield error("REPRO002", f"pipeline `{program.name}` registers a model but names no "
                    "image: the training environment could not be rebuilt",
                    program.pipeline.header,
                    "add `image \"REGISTRY/NAME@sha256:<64 hex digits>\"` to the pipeline")
    elif not pinned(program):
        message, fix = _not_pinned(image.value)
        yield error("REPRO002", message, image.value.span, fix)


def _not_pinned(value: n.Value) -> tuple[str, str]:
    """(message, fix) for an image reference that pins nothing."""
    if isinstance(value, n.Str) and UPPER_DIGEST.fullmatch(value.value):
        # Registries write digests in lowercase and refuse a reference spelled otherwise.
        return ("the image's `@sha256:` digest has uppercase hex digits: registries accept "
                "only lowercase, so this reference pulls nothing",
                "write the digest in lowercase")
    return ("the image is not pinned by an `@sha256:` digest of 64 hex digits: a tag can be "
            "moved to another image",
            "pin it: `image \"REGISTRY/NAME@sha256:<64 hex digits>\"` (`docker inspect "
            "--format '{{index .RepoDigests 0}}' IMAGE` prints it)")
