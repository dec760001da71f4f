"""montecarlo: an accelerated Monte Carlo risk engine for the economics of AI inference."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("montecarlo")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
