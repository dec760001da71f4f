"""Numba kernels of the montecarlo engine.

This layer imports numpy, numba and math only. Every building block is written
once as a plain Python function and compiled for the CPU with
:func:`kernels.target.device`; :mod:`kernels.cuda` compiles the very same
source as CUDA device functions.
"""
