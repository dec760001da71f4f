import gc
import os

# CI has no GPU: the CUDA twins run in numba-cuda's simulator unless a GPU run
# asks otherwise (NUMBA_ENABLE_CUDASIM=0). It must be set before numba.cuda loads.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Numba compiles on first use, which can make one example slow; determinism matters more.
settings.register_profile(
    "montecarlo", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("montecarlo")


@pytest.fixture(scope="module")
def frozen_heap():
    """For modules that run numba-cuda's simulator, which allocates Python objects by the
    million: with the rest of the session's heap in the collector's generations every full
    collection rescans it, and a launch ran 7x slower after the other test modules had
    run. Freezing the heap built so far leaves the collector only the module's objects."""
    gc.freeze()
    yield
    gc.unfreeze()
