"""Backends: run the kernels over chunks of paths and hand back mergeable reductions.

:mod:`.plan` holds what every backend is given (the :class:`~.plan.Plan` of a run) and
returns (:class:`~.plan.Reductions`), and the protocol they follow.
"""
