"""Jinja templates and the stylesheet of `pipec docs` (package data)."""
