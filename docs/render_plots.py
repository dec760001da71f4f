"""Render the PNGs of docs/plots.md from small runs: ``PYTHONPATH=. python docs/render_plots.py``.

Each chart is drawn by the montecarlo.plot call docs/plots.md shows, on a bare
matplotlib Figure (no pyplot, no GUI), and written atomically to docs/plots/.
The runs are small (seconds); the pictures show what the charts look like, not
figures to quote.
"""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.figure import Figure

import montecarlo as mc
from montecarlo import plot
from montecarlo.compare import financing_effect
from montecarlo.export import atomic_path

OUT = Path(__file__).resolve().parent / "plots"
DPI = 80


def save(name: str, draw, size: tuple[float, float]) -> Path:
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    draw(fig.subplots())
    path = OUT / f"{name}.png"
    with atomic_path(path) as tmp:
        # No Software/date metadata: the same run gives the same bytes, so a rerun is no diff.
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    return path


def main() -> None:
    OUT.mkdir(exist_ok=True)
    scenario = mc.Scenario.preset("api-startup").replace(horizon_months=24)
    ds = mc.simulate(scenario, 4000, seed=1, progress=False)
    inputs = ["api_price_0", "gpu_rent_price_0", "utilization_mean"]
    tornado = mc.sensitivity.tornado(scenario, 1000, seed=1, inputs=inputs)
    indices = mc.sensitivity.model_sobol(scenario, 1024, seed=1, inputs=inputs, n_bootstrap=200)
    swept = mc.sweep(scenario, "gpu_rent_price_0", [2.0, 2.3, 2.6], 4000, seed=1, progress=False)
    searched = mc.optimize(
        scenario, {"initial_cash": (1e6, 1e8), "subscription_price": (10, 60)}, "initial_cash",
        maximize=False, constraints={"p_ruined": ("<=", 0.1)}, n_paths=4000, seed=1,
        max_evaluations=30,
    )  # fmt: skip
    financing = financing_effect(scenario, 4000, seed=1)
    charts = [
        ("fan", lambda ax: plot.fan(ds, "cash", ax=ax, title="Cash balance"), (6.4, 3.5)),
        ("risk_over_time", lambda ax: plot.risk_over_time(ds, ax=ax), (8.0, 3.4)),
        ("event_months", lambda ax: plot.event_months(ds, "ruin_month", ax=ax), (5.0, 3.3)),
        ("npv", lambda ax: plot.npv(ds, ax=ax, level=0.95), (8.0, 3.6)),
        ("tornado", lambda ax: plot.tornado(tornado, ax=ax), (8.0, 2.4)),
        ("sobol", lambda ax: plot.sobol(indices, ax=ax), (8.0, 2.8)),
        ("comparison", lambda ax: plot.comparison(swept, ax=ax), (8.0, 2.2)),
        ("optimization", lambda ax: plot.optimization(searched, ax=ax), (6.4, 4.0)),
        ("rank_correlation", lambda ax: plot.rank_correlation(ds, ax=ax), (8.0, 5.4)),
        ("probabilities", lambda ax: plot.probabilities(ds, ax=ax), (8.0, 3.6)),
        ("capital_required", lambda ax: plot.capital_required(ds, ax=ax), (6.4, 3.5)),
        ("histogram", lambda ax: plot.histogram(ds, "capital_raised", ax=ax), (6.4, 3.3)),
        ("ruin_by_scenario", lambda ax: plot.ruin_by_scenario(financing, ax=ax), (6.4, 3.3)),
    ]
    for name, draw, size in charts:
        print(save(name, draw, size).relative_to(OUT.parent.parent), file=sys.stderr)


if __name__ == "__main__":
    main()
