"""montecarlo: an accelerated Monte Carlo risk engine for the economics of AI inference."""

# First, before the heavy imports: Ctrl-C while the montecarlo command starts up is one line.
from ._interrupt import install as _install_interrupt_hook

_install_interrupt_hook()

from importlib.metadata import PackageNotFoundError, version  # noqa: E402

try:
    __version__ = version("montecarlo")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

# risk registers the ds.risk accessor; sensitivity is mc.sensitivity.sobol, .tornado, ...
from . import export, risk, sensitivity  # noqa: E402,F401
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
from .export import open_result  # noqa: E402
from .fitting import fit, fit_process  # noqa: E402
from .optimization import optimize  # noqa: E402
from .scenario import Scenario, ScenarioError, Stress, presets  # noqa: E402


def __getattr__(name: str):
    # montecarlo.plot imports matplotlib (a few tenths of a second): loaded on first use,
    # so `import montecarlo` (and the CLI's start) stays without it.
    if name == "plot":
        import importlib  # not `from . import plot`: its hasattr check would recurse into here

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'montecarlo' has no attribute {name!r}")


__all__ = [
    "PERT", "Beta", "Constant", "Correlation", "Discrete", "Empirical", "Gamma", "LogNormal",
    "Normal", "Scenario", "ScenarioError", "Stress", "Triangular", "TruncatedNormal", "Uniform",
    "break_even_price", "compare", "export", "fit", "fit_process", "open_result", "optimize",
    "plot", "presets", "sensitivity", "simulate", "simulate_paths", "sweep", "__version__",
]  # fmt: skip
