"""pipec's benchmarks: `python -m bench [--quick] [--only NAME]` writes bench/README.md.

Every number is a ratio against a baseline measured in the same run, interleaved with it
(ABBA...) over several repetitions, median reported: the machine is shared and noisy.
"""
