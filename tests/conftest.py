import os

# CI has no GPU: the CUDA twins run in numba-cuda's simulator unless a GPU run
# asks otherwise (NUMBA_ENABLE_CUDASIM=0). It must be set before numba.cuda loads.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

# Numba compiles on first use, which can make one example slow; determinism matters more.
settings.register_profile(
    "montecarlo", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("montecarlo")
