"""Exports (montecarlo.export): every format round-trips, and no write is ever half done."""

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import xarray as xr

import montecarlo as mc
from montecarlo import export, report

SCENARIO = mc.Scenario.preset("api-startup").replace(horizon_months=24)
PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3
TORNADO_INPUTS = ["api_price_0", "gpu_rent_price_0", "utilization_mean"]


@pytest.fixture(scope="module")
def ds():
    return mc.simulate(SCENARIO, 2000, seed=1, progress=False)


@pytest.fixture(scope="module")
def ds_no_paths():
    return mc.simulate(SCENARIO, 2000, seed=1, progress=False, keep_paths=False)


@pytest.fixture(scope="module")
def tornado():
    return mc.sensitivity.tornado(SCENARIO, 300, seed=1, inputs=TORNADO_INPUTS)


def assert_exactly_identical(got: xr.Dataset, want: xr.Dataset):
    """assert_identical, plus what it leaves out: dtypes and the Python types of attributes."""
    xr.testing.assert_identical(got, want)
    assert list(got.dims) == list(want.dims)
    assert list(got.variables) == list(want.variables)
    for name, var in want.variables.items():
        assert got[name].dtype == var.dtype, name
        assert got[name].dims == var.dims, name
        for key, value in var.attrs.items():
            assert type(got[name].attrs[key]) is type(value), (name, key)
    assert got.attrs.keys() == want.attrs.keys()
    for key, value in want.attrs.items():
        assert type(got.attrs[key]) is type(value), key
        if isinstance(value, np.ndarray):
            assert value.dtype == got.attrs[key].dtype
            np.testing.assert_array_equal(got.attrs[key], value)
        else:
            assert got.attrs[key] == value, key


def assert_same_numbers(got, want):
    """Equal arrays, NaN where NaN (exact: the files keep every bit of a double)."""
    np.testing.assert_array_equal(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=float))


# --- NetCDF --------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["ds", "ds_no_paths"])
def test_netcdf_reopens_identically(tmp_path, which, request):
    want = request.getfixturevalue(which)
    path = tmp_path / "run.nc"
    assert export.write(want, path) == [path]
    got = export.open_result(path)
    assert_exactly_identical(got, want)
    assert got.attrs["scenario"] == want.attrs["scenario"]
    assert mc.Scenario.from_toml(got.attrs["scenario"]) == SCENARIO
    xr.testing.assert_identical(got.risk.summary(), want.risk.summary())
    assert os.listdir(tmp_path) == ["run.nc"]


def test_netcdf_keeps_what_netcdf3_cannot_hold(tmp_path):
    # NetCDF-3 has no int64, unsigned, unicode, booleans or lists: open_netcdf restores them.
    want = xr.Dataset(
        {
            "x": (("scenario", "step"), np.arange(6, dtype=np.int64).reshape(2, 3) * 2**40),
            "flag": ("step", np.array([True, False, True])),
            "label": ("scenario", np.array(["a", "béta"])),
            "small": ("step", np.array([1, 2, 3], dtype=np.uint16), {"never": 4, "ok": True}),
        },
        coords={"scenario": ["base", "rent +50 % – é"], "step": np.arange(3)},
        attrs={
            "seed": "18446744073709551615",
            "big": 2**40,
            "flag": False,
            "levels": [0.95, 0.99],
            "pair": (1, 2),
            "table": {"a": [1, 2], "b": None},
            "array": np.array([1.5, 2.5], dtype=np.float32),
            "text": "two\nlines, ünïcode",
            "nan": math.nan,
        },
    )
    path = tmp_path / "odd.nc"
    export.write_netcdf(want, path)
    got = export.open_netcdf(path)
    assert math.isnan(got.attrs.pop("nan"))  # NaN != NaN, so compare the rest
    del want.attrs["nan"]
    assert_exactly_identical(got, want)


def test_open_result_refuses_other_formats(tmp_path):
    with pytest.raises(ValueError, match=r"\.nc"):
        export.open_result(tmp_path / "run.csv")


# --- CSV and Parquet -----------------------------------------------------------------------


def read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        # Before pandas 3 the default float parser may be off by an ulp; "round_trip" is exact.
        exact = {} if PANDAS_3 else {"float_precision": "round_trip"}
        return pd.read_csv(path, keep_default_na=False, na_values=[""], **exact)
    return pd.read_parquet(path)


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
def test_tables_round_trip_exactly(tmp_path, ds, tornado, ext):
    files = export.write(ds, tmp_path / f"result{ext}", tornado=tornado)
    names = [f"result{ext}", *(f"result.{t}{ext}" for t in ("months", "paths", "tornado"))]
    assert [f.name for f in files] == names
    assert sorted(os.listdir(tmp_path)) == sorted(names)
    summary, months, paths, torn = (read_table(f) for f in files)

    want = ds.risk.summary()
    assert list(summary.columns) == [
        "metric", "estimate", "se", "ci_low", "ci_high", "units", "se_method"
    ]  # fmt: skip
    assert list(summary["metric"]) == list(want["metric"].values)
    for column in ("estimate", "se", "ci_low", "ci_high"):
        assert_same_numbers(summary[column], want[column].values)
    for column in ("units", "se_method"):
        assert list(summary[column]) == list(want[column].values)

    assert list(months.columns) == ["outcome", "month", "statistic", "quantile", "value", "units"]
    fans = [n for n, v in ds.data_vars.items() if v.dims == ("quantile", "month")]
    # Each fan's quantiles, mean and std, then p_idle_commitment, p_profitable and p_ruined.
    assert len(months) == ds.sizes["month"] * (len(fans) * (ds.sizes["quantile"] + 2) + 3)
    quant = months[months.statistic == "quantile"]
    for name in fans:
        rows = quant[quant.outcome == name]
        cube = rows.pivot(index="quantile", columns="month", values="value")
        assert_same_numbers(cube.index, ds["quantile"].values)
        assert_same_numbers(cube.columns, ds["month"].values)
        assert_same_numbers(cube.values, ds[name].values)
        assert set(rows.units) == {ds[name].attrs["units"]}
        for stat in ("mean", "std"):
            rows = months[(months.outcome == name) & (months.statistic == stat)]
            assert rows["quantile"].isna().all()
            assert_same_numbers(rows.month, ds["month"].values)
            assert_same_numbers(rows.value, ds[f"{name}_{stat}"].values)
    for name in ("p_profitable", "p_ruined"):
        rows = months[months.outcome == name]
        assert set(rows.statistic) == {"probability"}
        assert_same_numbers(rows.value, ds[name].values)

    per_path = [n for n, v in ds.data_vars.items() if v.dims == ("path",)]
    assert list(paths.columns[: 1 + len(per_path)]) == ["path", *per_path]
    assert len(paths) == ds.sizes["path"]
    assert_same_numbers(paths.path, ds["path"].values)
    for name, var in ds.data_vars.items():
        if var.dims == ("path",):
            assert_same_numbers(paths[name], var.values)
            if var.dtype.kind == "i":
                assert paths[name].dtype.kind == "i", name
    for j, name in enumerate(ds["input"].values):
        assert_same_numbers(paths[name], ds["inputs"].values[:, j])

    assert list(torn.input) == list(tornado["input"].values)
    for column in ("low_value", "high_value", "metric_low", "metric_high", "swing", "swing_se"):
        assert_same_numbers(torn[column], tornado[column].values)


def test_parquet_carries_the_provenance(tmp_path, ds):
    files = export.write(ds, tmp_path / "result.parquet")
    for name, f in zip(["summary", "months", "paths"], files, strict=True):
        meta = pq.read_schema(f).metadata
        assert meta[b"montecarlo.table"] == name.encode()
        provenance = json.loads(meta[b"montecarlo.provenance"])
        assert provenance["seed"] == "1"
        assert provenance["n_paths"] == 2000
        assert provenance["scenario"] == ds.attrs["scenario"]


def test_tables_without_paths_write_no_paths_file_and_remove_a_stale_one(tmp_path, ds, ds_no_paths):
    export.write(ds, tmp_path / "result.csv")
    assert (tmp_path / "result.paths.csv").exists()
    files = export.write(ds_no_paths, tmp_path / "result.csv")
    assert [f.name for f in files] == ["result.csv", "result.months.csv"]
    assert sorted(os.listdir(tmp_path)) == ["result.csv", "result.months.csv"]
    summary = read_table(files[0])
    assert list(summary.metric) == list(ds_no_paths.risk.summary()["metric"].values)


# --- JSON ----------------------------------------------------------------------------------


def _no_constants(token):
    raise AssertionError(f"not valid JSON: {token}")


def check_schema(doc):
    """The schema documented in docs/exports.md, checked by hand."""
    assert set(doc) == {"schema", "provenance", "confidence", "n_paths", "metrics", "tornado"}
    assert doc["schema"] == "montecarlo.summary/1"
    assert isinstance(doc["provenance"], dict)
    assert all(
        isinstance(v, (str, int, float, bool, type(None))) for v in doc["provenance"].values()
    )
    assert doc["confidence"] == 0.95
    assert isinstance(doc["n_paths"], int)
    assert isinstance(doc["metrics"], list) and doc["metrics"]
    for row in doc["metrics"]:
        assert list(row) == ["metric", "estimate", "se", "ci_low", "ci_high", "units", "se_method"]
        assert isinstance(row["metric"], str)
        assert isinstance(row["units"], str) and isinstance(row["se_method"], str)
        for key in ("estimate", "se", "ci_low", "ci_high"):
            assert row[key] is None or isinstance(row[key], (int, float)), (row, key)
    if doc["tornado"] is not None:
        assert set(doc["tornado"]) == {"attrs", "inputs"}
        for row in doc["tornado"]["inputs"]:
            assert isinstance(row["input"], str)
            for key in ("low_value", "high_value", "metric_low", "metric_high", "swing",
                        "swing_se"):  # fmt: skip
                assert row[key] is None or isinstance(row[key], float)


@pytest.mark.parametrize("with_tornado", [False, True])
def test_json_follows_its_schema_and_matches_the_summary(tmp_path, ds, tornado, with_tornado):
    path = tmp_path / "result.json"
    assert export.write(ds, path, tornado=tornado if with_tornado else None) == [path]
    doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constants)
    check_schema(doc)
    want = ds.risk.summary()
    assert [r["metric"] for r in doc["metrics"]] == list(want["metric"].values)
    for key in ("estimate", "se", "ci_low", "ci_high"):
        got = [np.nan if r[key] is None else r[key] for r in doc["metrics"]]
        assert_same_numbers(got, want[key].values)
    assert [r["units"] for r in doc["metrics"]] == list(want["units"].values)
    assert doc["n_paths"] == 2000
    assert doc["provenance"]["scenario"] == ds.attrs["scenario"]
    assert doc["provenance"].keys() == ds.attrs.keys()
    if with_tornado:
        assert [r["input"] for r in doc["tornado"]["inputs"]] == list(tornado["input"].values)
        assert doc["tornado"]["attrs"]["metric"] == "npv_mean"
    else:
        assert doc["tornado"] is None


def test_json_writes_nan_and_inf_as_null(tmp_path, ds, monkeypatch):
    real = type(ds.risk).summary

    def summary(self, *args, **kwargs):
        s = real(self, *args, **kwargs)
        return s.assign(se=s.se.copy(data=np.r_[np.nan, np.inf, s.se.values[2:]]))

    monkeypatch.setattr(type(ds.risk), "summary", summary)
    path = export.write(ds.assign_attrs(weird=math.inf), tmp_path / "r.json")[0]
    doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constants)
    check_schema(doc)
    assert doc["metrics"][0]["se"] is None and doc["metrics"][1]["se"] is None
    assert doc["provenance"]["weird"] is None


# --- atomic writes -------------------------------------------------------------------------

# What each format calls to write its file: patched to write part of a file, then fail.
WRITERS = {
    ".nc": (xr.Dataset, "to_netcdf", lambda args: args[1]),
    ".parquet": (pq, "write_table", lambda args: args[1]),
    ".csv": (pd.DataFrame, "to_csv", lambda args: args[1]),
    ".json": (Path, "write_text", lambda args: args[0]),
    ".html": (Path, "write_text", lambda args: args[0]),
}


def failing_writer(ext: str, call: int = 0):
    """The writer of ``ext``, failing on its call number ``call`` (from 0) after writing part
    of its file."""
    owner, name, target = WRITERS[ext]
    real = getattr(owner, name)
    calls = []

    def writer(*args, **kwargs):
        calls.append(1)
        if len(calls) == call + 1:
            Path(target(args)).write_bytes(b"half a file")
            raise OSError("disk full")
        return real(*args, **kwargs)

    return writer


@pytest.fixture
def quick_report(monkeypatch):
    """Atomicity does not depend on the report's charts: a stand-in page, fast to render."""
    monkeypatch.setattr(
        report, "render_html", lambda ds, **kwargs: f"<html>seed {ds.attrs['seed']}</html>"
    )


@pytest.mark.parametrize("ext", list(export.FORMATS))
def test_a_failed_write_leaves_nothing(tmp_path, ds, ext, monkeypatch, quick_report):
    owner, name, _ = WRITERS[ext]
    monkeypatch.setattr(owner, name, failing_writer(ext))
    with pytest.raises(OSError, match="disk full"):
        export.write(ds, tmp_path / f"result{ext}")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("ext", list(export.FORMATS))
def test_a_failed_write_keeps_the_previous_files(
    tmp_path, ds, tornado, ext, monkeypatch, quick_report
):
    files = export.write(ds, tmp_path / f"result{ext}", tornado=tornado)
    before = {f.name: f.read_bytes() for f in files}
    owner, name, _ = WRITERS[ext]
    changed = ds.assign(p_profitable=ds.p_profitable / 2).assign_attrs(seed="999")
    with monkeypatch.context() as patch:
        # The last table of a multi-file export fails: none of the new files may land.
        patch.setattr(owner, name, failing_writer(ext, call=len(files) - 1))
        with pytest.raises(OSError, match="disk full"):
            export.write(changed, tmp_path / f"result{ext}", tornado=tornado)
    assert {f.name: f.read_bytes() for f in files} == before
    assert sorted(os.listdir(tmp_path)) == sorted(before)
    assert export.write(changed, tmp_path / f"result{ext}", tornado=tornado) == files
    assert sorted(os.listdir(tmp_path)) == sorted(before)
    assert (tmp_path / f"result{ext}").read_bytes() != before[f"result{ext}"]


def test_a_failed_rename_leaves_no_temporary_file(tmp_path, ds, monkeypatch):
    def refuse(src, dst):
        raise PermissionError("rename refused")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError, match="rename refused"):
        export.write(ds, tmp_path / "result.csv")
    assert os.listdir(tmp_path) == []


def test_written_files_follow_the_umask(tmp_path, ds):
    umask = os.umask(0o022)
    try:
        files = export.write(ds, tmp_path / "result.parquet")
    finally:
        os.umask(umask)
    assert {f.stat().st_mode & 0o777 for f in files} == {0o644}


# --- check_writable ------------------------------------------------------------------------


def test_formats_name_every_extension():
    assert list(export.FORMATS) == [".nc", ".parquet", ".csv", ".json", ".html"]
    assert all(isinstance(v, str) and v for v in export.FORMATS.values())


def test_check_writable_accepts_a_good_path_and_leaves_nothing(tmp_path):
    for ext in export.FORMATS:
        assert export.check_writable(tmp_path / f"result{ext}") is None
        assert export.check_writable(str(tmp_path / f"RESULT{ext.upper()}")) is None
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["result.txt", "result", "result.nc.bak"])
def test_check_writable_refuses_an_unknown_extension(tmp_path, ds, name):
    with pytest.raises(ValueError, match=r"\.nc, \.parquet, \.csv, \.json, \.html"):
        export.check_writable(tmp_path / name)
    with pytest.raises(ValueError, match="extension"):
        export.write(ds, tmp_path / name)
    assert os.listdir(tmp_path) == []


def test_check_writable_refuses_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export.check_writable(tmp_path / "nowhere" / "result.nc")


def test_check_writable_refuses_a_path_that_is_a_directory(tmp_path):
    (tmp_path / "result.nc").mkdir()
    with pytest.raises(IsADirectoryError):
        export.check_writable(tmp_path / "result.nc")
    (tmp_path / "result.months.csv").mkdir()
    with pytest.raises(IsADirectoryError, match="result.months.csv"):
        export.check_writable(tmp_path / "result.csv")


def test_check_writable_refuses_an_unwritable_directory(tmp_path):
    if os.geteuid() == 0:
        # root writes anywhere (CI runs as root); a "directory" that is a file fails for anyone.
        (tmp_path / "file").write_text("")
        with pytest.raises(NotADirectoryError, match="cannot write .*not a directory"):
            export.check_writable(tmp_path / "file" / "result.nc")
        return
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="cannot create a file"):
            export.check_writable(locked / "result.nc")
    finally:
        locked.chmod(0o700)


def test_check_writable_reports_a_refused_file_creation(tmp_path, monkeypatch):
    # Whatever the user: a directory that refuses new files (permissions, read-only mount).
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(export.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match="cannot create a file in .*Permission denied"):
        export.check_writable(tmp_path / "result.json")
