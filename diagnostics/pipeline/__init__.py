"""The pipeline: observe -> judge -> explain -> report, one module per kind of run.

The CLI, the app and Python callers all call these functions; they do the I/O once up front
(probes, loaders) and hand observations to the pure checks and analyzers.
"""
