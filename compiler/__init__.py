"""pipec: a compiler for ML training pipelines."""

__version__ = "0.1.0"
