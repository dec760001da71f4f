"""The HTML report (montecarlo.report): one offline page, checked as text and in a real browser."""

import base64
import html
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import montecarlo as mc
from kernels.layout import NEUTRAL_V2
from montecarlo import export, report
from montecarlo.compare import financing_effect

#: No financing and no commitments whatever the presets hold (checked in its own test).
SCENARIO = mc.Scenario.preset("api-startup").replace(horizon_months=24, **NEUTRAL_V2)
#: Commitments, a tranche and rounds, given explicitly.
FINANCED = SCENARIO.replace(
    commitment_share=1.5, commitment_months=18, tranche_amount=5e6, tranche_month=6,
    tranche_probability=0.5, raise_trigger_months=6, raise_success_probability=0.6,
    raise_arr_multiple=2.0, valuation_arr_multiple=10.0,
)  # fmt: skip
ROOT = Path(__file__).resolve().parent.parent
SECTIONS = [key for key, _ in report.SECTIONS]
IMG = re.compile(r"<img\b[^>]*>")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def ds():
    return mc.simulate(SCENARIO, 2000, seed=1, progress=False)


@pytest.fixture(scope="module")
def tornado():
    return mc.sensitivity.tornado(
        SCENARIO, 300, seed=1, inputs=["api_price_0", "gpu_rent_price_0", "utilization_mean"]
    )


@pytest.fixture(scope="module")
def written(ds, tornado, tmp_path_factory):
    """The report as ``montecarlo.export.write`` writes it (rendering takes seconds: once)."""
    folder = tmp_path_factory.mktemp("report")
    files = export.write(ds, folder / "report.html", tornado=tornado)
    assert files == [folder / "report.html"]
    assert os.listdir(folder) == ["report.html"]  # no temporary file left
    return files[0]


@pytest.fixture(scope="module")
def page(written):
    return written.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page_without_paths():
    ds = mc.simulate(SCENARIO, 2000, seed=1, progress=False, keep_paths=False)
    # Never profitable: the Wilson interval of p = 0 starts a rounding error above 0, which
    # must still chart (matplotlib refuses negative whiskers).
    return report.render_html(ds.assign(p_profitable=0 * ds.p_profitable))


def images(text: str) -> list[bytes]:
    """The decoded PNG of every <img>; fails on any image that is not an embedded PNG."""
    out = []
    for tag in IMG.findall(text):
        src = re.search(r'src="([^"]*)"', tag).group(1)
        assert src.startswith("data:image/png;base64,"), src[:60]
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data.startswith(PNG)
        assert re.search(r'alt="[^"]+"', tag), tag[:80]
        out.append(data)
    return out


def assert_self_contained(text: str):
    assert text.startswith("<!DOCTYPE html>")
    assert text.count("<html") == 1 and text.rstrip().endswith("</html>")
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text.lower()
    assert "@import" not in text and "url(" not in text
    # Every src= and href= is an embedded image, the empty icon, or a link within the page.
    for ref in re.findall(r'(?:src|href)="([^"]*)"', text):
        assert ref.startswith(("data:", "#")), ref[:60]


def test_report_is_one_self_contained_document_with_every_section(page, ds):
    assert_self_contained(page)
    for key in SECTIONS:
        assert page.count(f'<section id="{key}">') == 1, key
    assert "<title>montecarlo report: api-startup</title>" in page
    # fans (4), ruin/profit, timing, NPV, tornado, summary probabilities
    assert len(images(page)) == 9
    for name, _ in report.FANS:
        assert f'alt="fan chart of {name}"' in page
    assert "Tornado (300 paths per run" in page
    assert "Rank correlation" not in page


def test_report_shows_the_summary_scenario_and_provenance(page, ds):
    summary = ds.risk.summary()
    table = page.split('<section id="summary">')[1].split("</section>")[0]
    assert table.count("<tr>") == summary.sizes["metric"] + 1  # with the header row
    for metric in summary["metric"].values:
        assert f"<td>{html.escape(str(metric))}</td>" in table
    scenario = page.split('<section id="scenario">')[1].split("</section>")[0]
    for name in SCENARIO.inputs:
        assert f"<code>{name}</code>" in scenario
    assert scenario.count('class="uncertain"') == len(SCENARIO.uncertain_inputs)
    assert "docs/model.md" in scenario
    assert html.escape(ds.attrs["scenario"]) in scenario
    provenance = page.split('<section id="provenance">')[1].split("</section>")[0]
    for key in ("seed", "n_paths", "backend", "montecarlo_version", "report written"):
        assert f"<th>{key}</th>" in provenance
    assert "never do within 24 months" in page  # the timing chart states the share never


def test_without_a_tornado_the_report_charts_rank_correlations(ds):
    page = report.render_html(ds)
    assert_self_contained(page)
    section = page.split('<section id="sensitivity">')[1].split("</section>")[0]
    assert "Rank correlation (Spearman)" in section and "not a tornado" in section
    assert len(images(section)) == 1


def test_without_per_path_outcomes_the_report_says_what_is_left_out(page_without_paths):
    page = page_without_paths
    assert_self_contained(page)
    for key in ("timing", "npv"):
        section = page.split(f'<section id="{key}">')[1].split("</section>")[0]
        assert "keep_paths=False" in section
        assert not images(section)
    assert "No sensitivity chart" in page
    assert len(images(page)) == 6  # 4 fans, ruin/profit, summary probabilities


def test_every_text_is_escaped(ds):
    nasty = "<script>alert('x')</script> & \"q\""
    page = report.render_html(ds.assign_attrs(scenario_name=nasty, seed=nasty), title=nasty)
    assert "<script" not in page
    assert f"<title>{html.escape(nasty)}</title>" in page
    assert f"<th>seed</th><td>{html.escape(nasty)}</td>" in page


def test_render_html_refuses_what_is_not_a_simulation(ds):
    with pytest.raises(ValueError, match="p_ruined"):
        report.render_html(ds.drop_vars("p_ruined"))


def test_write_html_returns_the_path_and_writes_render_html(tmp_path, ds, monkeypatch):
    monkeypatch.setattr(report, "render_html", lambda ds, **kwargs: "<!DOCTYPE html>page")
    path = tmp_path / "report.html"
    assert report.write_html(ds, path) == path
    assert path.read_text(encoding="utf-8") == "<!DOCTYPE html>page"
    assert os.listdir(tmp_path) == ["report.html"]


# --- in a real browser ---------------------------------------------------------------------

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _browser_paths() -> tuple[str, str]:
    chromium = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    driver = CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip(
            "chromium and chromedriver are needed to load the report in a browser; .ci/run "
            "installs them (apt-get install chromium chromium-driver)"
        )
    return chromium, driver


def test_the_report_renders_in_headless_chromium(tmp_path, written):
    chromium, driver_path = _browser_paths()
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1280,900",
    ):  # fmt: skip
        options.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # A fixed executable_path: selenium must never try to download a driver.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        driver.get(written.as_uri())
        deadline = time.monotonic() + 20
        while driver.execute_script("return document.readyState") != "complete":
            assert time.monotonic() < deadline, "the report did not finish loading"
            time.sleep(0.1)
        assert driver.title == "montecarlo report: api-startup"
        sizes = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
        )
        assert len(sizes) == 9
        for complete, width, alt in sizes:
            assert complete and width > 0, f"chart not decoded: {alt}"
        headings = driver.execute_script(
            "return Array.from(document.querySelectorAll('section h2')).map(h => h.textContent)"
        )
        assert headings == [title for _, title in report.SECTIONS]
        severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not severe, severe
        # The whole page in one image: lay it out at 1280 px, then grow the viewport to fit.
        metrics = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
    finally:
        driver.quit()
    png = base64.b64decode(shot["data"])
    assert png.startswith(PNG)
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "report.png").write_bytes(png)
    # The README's picture of the report, refreshed on request only: the page carries its
    # date, so every run's bytes differ and a test must not dirty the tracked copy.
    if os.environ.get("MONTECARLO_UPDATE_SCREENSHOT") == "1":
        from PIL import Image

        with Image.open(artifacts / "report.png") as page:  # the top: glance, fans, ruin
            page.crop((0, 0, page.width, min(page.height, 1700))).save(
                ROOT / "docs" / "report.png", optimize=True
            )


# --- financing and commitments ----------------------------------------------------------------


def section(page: str, key: str) -> str:
    return page.split(f'<section id="{key}">')[1].split("</section>")[0]


def test_without_financing_or_commitments_the_section_says_so_and_draws_nothing(page):
    text = section(page, "financing")
    assert "raises no money" in text and "commits to no compute" in text
    assert images(text) == [] and 'class="card"' not in text


@pytest.fixture(scope="module")
def financed_page():
    ds = mc.simulate(FINANCED, 1500, seed=2, progress=False)
    return ds, report.render_html(ds)


def test_the_financing_section_charts_capital_raising_commitments_and_ruin(financed_page):
    ds, page = financed_page
    assert_self_contained(page)
    text = section(page, "financing")
    # capital required, capital raised, ownership retained, idle commitment fan, P(ruin) x 2
    assert len(images(text)) == 5
    for alt in ("capital required by confidence level", "distribution of capital raised",
                "distribution of ownership retained", "fan chart of idle_commitment_cost",
                "P(ruined by month t) with and without financing"):  # fmt: skip
        assert f'alt="{alt}"' in text
    summary = ds.risk.summary()
    gap = float(summary.estimate.sel(metric="capital required 0.95"))
    assert gap > 0 and f'<div class="big">{report._value(gap, "USD")} USD</div>' in text
    # The comparison is financing_effect on the result's seed and paths (fewer than the cap).
    effect = financing_effect(FINANCED, 1500, seed=2, progress=False)
    without, with_ = effect.p_ruined.values[:, -1]
    assert with_ < without
    assert "Two runs of 1,500 paths, seed 2" in text
    assert f"{report._value(without, '1')} without, {report._value(with_, '1')} with" in text
    diff = float(effect.p_ruined_diff_mean[1])
    assert f"paired difference {report._value(diff, '1')}" in text


def test_the_financing_section_without_kept_paths_keeps_what_needs_none(financed_page):
    ds, _ = financed_page
    text = section(report.render_html(ds.drop_dims("path")), "financing")
    assert html.escape(report._NO_PATHS) in text
    assert 'alt="fan chart of idle_commitment_cost"' in text
    assert 'alt="P(ruined by month t) with and without financing"' in text
    assert len(images(text)) == 2


def test_commitments_alone_draw_no_financing_charts():
    ds = mc.simulate(SCENARIO.replace(commitment_share=1.5, commitment_months=18), 500, seed=2,
                     progress=False)  # fmt: skip
    text = section(report.render_html(ds), "financing")
    assert "take-or-pay compute commitments" in text and "tranche" not in text
    assert 'alt="fan chart of idle_commitment_cost"' in text
    assert "with and without financing" not in text and "capital raised" not in text
    assert "months with idle committed compute" in text and "round" not in text
    assert len(images(text)) == 2  # capital required, idle commitment cost
