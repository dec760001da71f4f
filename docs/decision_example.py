"""From data to a decision, the walkthrough of docs/decisions.md and the README.

``PYTHONPATH=. python docs/decision_example.py`` (about a minute) prints every
figure the walkthrough quotes and renders its charts into docs/plots/.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

import montecarlo as mc
from montecarlo import plot
from montecarlo.export import atomic_path

OUT = Path(__file__).resolve().parent / "plots"
pd.set_option("display.width", 120)
pd.set_option("display.precision", 4)
FIGURES = ["estimate", "ci_low", "ci_high", "in_sample"]


def save(fig: Figure, name: str) -> None:
    with atomic_path(OUT / f"{name}.png") as tmp:
        fig.savefig(tmp, format="png", dpi=80, metadata={"Software": None})


# 1. Fit the hardware price index to a year-by-year series of rental quotes.
quotes = mc.fitting.example_quotes()  # 48 monthly USD per H100-hour: SYNTHETIC
index = mc.fit_process(quotes, "gbm", dt=1)  # dt: months between quotes
print(index.table.to_dataframe()[["estimate", "se", "units"]])
scenario = mc.Scenario.preset("api-startup").replace(**index.fields)

# 2. The subscription price and rent share that maximise mean NPV with P(ruin) <= 5 %.
decisions = {"subscription_price": (10, 60), "rent_share": (0, 1)}
started = time.perf_counter()
choice = mc.optimize(scenario, decisions, objective="npv_mean", maximize=True,
                     constraints={"p_ruined": ("<=", 0.05)}, n_paths=20_000, seed=0)  # fmt: skip
print(f"{time.perf_counter() - started:.1f} s")
print(choice.attrs["status"], choice.attrs["n_evaluations"], "evaluations")
print(choice.value.to_series())
print(choice[FIGURES].to_dataframe()[FIGURES])

# 3. Infeasible at the preset's starting cash: how much must be raised to meet the limit?
funding_decisions = {"initial_cash": (1e7, 5e9), **decisions}
started = time.perf_counter()
funding = mc.optimize(scenario, funding_decisions, objective="initial_cash", maximize=False,
                      constraints={"p_ruined": ("<=", 0.05)}, n_paths=20_000, seed=0,
                      eval_paths=100_000)  # fmt: skip
print(f"{time.perf_counter() - started:.1f} s")
print(funding.attrs["status"], funding.attrs["n_evaluations"], "evaluations")
print(funding.value.to_series())
print(funding[FIGURES].to_dataframe()[FIGURES])
print("met with confidence:", bool(funding.constraints_met_with_confidence))

# 4. The chosen plan, simulated afresh and plotted.
plan = mc.Scenario.from_toml(funding.attrs["scenario"])
ds = mc.simulate(plan, 100_000, seed=1, progress=False)
rows = ["P(ruined by) month 60", "mean npv", "quantile 0.5 npv", "CVaR 0.95 npv (loss)"]
print(ds.risk.summary().sel(metric=rows).to_dataframe()[["estimate", "ci_low", "ci_high"]])

fig = Figure(figsize=(12.8, 3.8), layout="constrained")
left, middle, right = fig.subplots(1, 3)
plot.optimization(funding, ax=left)
plot.fan(ds, "cash", ax=middle, title="Cash balance")
plot.risk_over_time(ds, ax=right)
save(fig, "decision")
