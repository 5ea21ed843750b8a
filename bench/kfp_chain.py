"""Compile a chain of N trivial Kubeflow Pipelines components to one YAML file.

Run with the kfp venv's python (see kfp_env.py), never the project's:

    bench/.venv-kfp/bin/python bench/kfp_chain.py N OUT.yaml

Each component is a container component (an image, a command, one string input), the
smallest thing kfp can run, and each runs after the one before it.
"""

import sys

from kfp import compiler, dsl


@dsl.container_component
def step(name: str):
    return dsl.ContainerSpec(image="registry.example.com/train:1", command=["echo"],
                             args=[name])


def chain(n: int):
    @dsl.pipeline(name=f"chain-{n}")
    def pipeline():
        previous = None
        for i in range(n):
            task = step(name=f"step-{i}").set_display_name(f"step-{i}")
            if previous is not None:
                task.after(previous)
            previous = task

    return pipeline


if __name__ == "__main__":
    n, out = int(sys.argv[1]), sys.argv[2]
    compiler.Compiler().compile(chain(n), package_path=out)
