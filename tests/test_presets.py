"""The calibration targets docs/model.md claims for the presets.

frontier-lab carries its whole inference bill (free users included), so its year-1
inference cost matches the leaked Azure inference spend, while the compute margin on
*paying* users stays inside the reported 35-70% (The Information)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import montecarlo as mc

#: Leaked Azure inference spend, 8.67B for January-September 2025: ~0.96B a month.
AZURE_MONTHLY = 8.67e9 / 9
#: Volatilities and jumps: zero at "the input means" (a deterministic path).
_NOISE = (
    "user_volatility",
    "api_volatility",
    "utilization_volatility",
    "hardware_volatility",
    "generation_jump_rate",
    "electricity_volatility",
)


def _mean(dist) -> float:
    return float(dist.to_scipy().mean())


@pytest.fixture(scope="module")
def frontier() -> mc.Scenario:
    return mc.Scenario.preset("frontier-lab")


def test_paid_user_margin_at_the_input_means(frontier):
    """(paid users' subscriptions - inference cost of their tokens) / subscriptions, month 1,
    every input at its mean and no noise: the reported 35% / 52% / 70%, near the middle."""
    means = {name: _mean(dist) for name, dist in frontier.inputs.items()}
    path = mc.simulate_paths(
        frontier.replace(correlation=None, **{**means, **dict.fromkeys(_NOISE, 0.0)}), 1, seed=0
    ).sel(path=0, month=1)
    paying = means["paid_share"] * float(path.users)
    tokens = (
        paying
        * means["queries_per_paid_user_day"]
        * 365.0
        / 12.0
        * means["tokens_per_query_0"]
        * math.exp(means["tokens_per_query_growth"] / 12.0)
    )
    subscriptions = paying * means["subscription_price"]
    paid_margin = (subscriptions - tokens * float(path.cost_per_mtok) / 1e6) / subscriptions
    overall = float((path.revenue - path.inference_cost) / path.revenue)
    assert 0.35 < paid_margin < 0.70
    assert paid_margin == pytest.approx(0.52, abs=0.02)  # the row's likely value
    # Free users are most of the bill: the overall margin is far below the paid users'.
    assert overall < paid_margin - 0.3


def test_year_one_median_inference_cost_matches_azure(frontier):
    """Median over paths of the inference cost summed over months 1-12 (March 2025 to
    February 2026): at least the Azure figure's monthly average (January-September 2025)
    and at most 30% above it (the bill grows through the year). The bounds hold for the
    median's distribution-free 99.9% interval (order statistics), so they hold for the
    true median, not just this sample's."""
    n = 20_000  # docs/model.md's run (its months 1-12 do not depend on the horizon)
    ds = mc.simulate_paths(frontier.replace(horizon_months=12), n, seed=0)
    year_one = np.sort(ds.inference_cost.sel(month=slice(1, 12)).sum("month").values)
    half_width = 3.29 * math.sqrt(n) / 2.0  # binomial(n, 1/2) ranks, 99.9% two-sided
    low = year_one[int(math.floor(n / 2 - half_width))]
    high = year_one[int(math.ceil(n / 2 + half_width))]
    assert 12 * AZURE_MONTHLY <= low
    assert high <= 1.3 * 12 * AZURE_MONTHLY
