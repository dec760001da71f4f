"""montecarlo: an accelerated Monte Carlo risk engine for the economics of AI inference."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("montecarlo")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from . import risk  # noqa: E402,F401 - registers the ds.risk accessor
from .compare import break_even_price, compare, sweep  # noqa: E402
from .correlation import Correlation  # noqa: E402
from .distributions import (  # noqa: E402
    PERT,
    Beta,
    Constant,
    Discrete,
    Empirical,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    TruncatedNormal,
    Uniform,
)
from .engine import simulate, simulate_paths  # noqa: E402
from .scenario import Scenario, ScenarioError, presets  # noqa: E402

__all__ = [
    "PERT", "Beta", "Constant", "Correlation", "Discrete", "Empirical", "Gamma", "LogNormal",
    "Normal", "Scenario", "ScenarioError", "Triangular", "TruncatedNormal", "Uniform",
    "break_even_price", "compare", "presets", "simulate", "simulate_paths", "sweep", "__version__",
]  # fmt: skip
