"""Maps the user's top-level folders (the "rooms") into the single import package `pipec`.

pyproject.toml carries the metadata; this file only computes the package list, because
setuptools cannot express "folder X is package pipec.Y, with its subpackages" declaratively.
"""

from setuptools import find_packages, setup

ROOMS = {
    "pipec": "compiler",
    "pipec.grammar": "grammar",
    "pipec.backends": "backends",
    "pipec.stdlib": "stdlib",
    "pipec.examples": "examples",
}


def _packages() -> list[str]:
    names = []
    for package, folder in ROOMS.items():
        names.append(package)
        names.extend(f"{package}.{sub}" for sub in find_packages(folder))
    return names


setup(packages=_packages(), package_dir=ROOMS)
