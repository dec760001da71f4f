"""Writing results to files: always to a temporary file renamed into place.

A reader never sees a half-written file, and an interrupted or failed export
leaves nothing behind: every file is written under a temporary name in the
target's directory and renamed onto the target only once all the files of
the export are complete. The formats, the file names one ``--out`` path
stands for, and the JSON schema are documented in docs/exports.md.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: What each output extension holds (``write`` dispatches on it).
FORMATS: dict[str, str] = {
    ".nc": "NetCDF-3 (64-bit offset): the whole Dataset; open_result reopens it identically",
    ".parquet": "Parquet tables: the risk summary, with .months/.paths/.tornado siblings",
    ".csv": "CSV tables: the risk summary, with .months/.paths/.tornado siblings",
    ".json": "JSON: the risk summary with its provenance (schema montecarlo.summary/1)",
    ".html": "a self-contained HTML report with charts, viewable offline",
}

#: The ``schema`` field of the JSON export; bumped when its layout changes.
JSON_SCHEMA = "montecarlo.summary/1"

#: Sibling tables of a .csv or .parquet export: ``result.csv`` -> ``result.<name>.csv``.
TABLES = ("months", "paths", "tornado")

# NetCDF-3 stores only numbers and text. The Dataset's dtypes and the Python types of
# its attributes that NetCDF-3 would change are recorded here, as JSON, and restored by
# open_result; plain NetCDF readers see one extra text attribute.
_ENCODING_ATTR = "montecarlo_netcdf_encoding"
_INT32 = np.iinfo(np.int32)


# --- atomic files --------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is for the temporary file only
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike]) -> Iterator[list[Path]]:
    """Temporary paths beside each of ``paths``; renamed into place only if all are written.

    A failure while writing any of them removes every temporary file and
    leaves all the targets as they were.
    """
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(atomic_path(p)) for p in paths]


# --- checks --------------------------------------------------------------------------------


def _extension(path: str | os.PathLike) -> str:
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValueError(
            f"cannot tell the output format of {os.fspath(path)!r} from its extension "
            f"{ext or '(none)'!r}; use one of {known}"
        )
    return ext


def output_paths(
    path: str | os.PathLike, *, paths: bool = True, tornado: bool = False
) -> dict[str, Path]:
    """The files one output path stands for, by table name (docs/exports.md).

    ``result.csv`` (or ``.parquet``) holds the risk summary (``"summary"``);
    ``result.months.csv`` the per-month distributions, ``result.paths.csv``
    the per-path outcomes and inputs (when kept) and ``result.tornado.csv``
    a tornado (when given). Other formats are one file.
    """
    target = Path(path)
    ext = _extension(target)
    out = {"summary": target}
    if ext in (".csv", ".parquet"):
        stem = target.name[: -len(target.suffix)]
        wanted = {"months": True, "paths": paths, "tornado": tornado}
        for name in TABLES:
            if wanted[name]:
                out[name] = target.with_name(f"{stem}.{name}{target.suffix}")
    return out


def check_writable(path: str | os.PathLike) -> None:
    """Raise if ``write`` could not write ``path``: call it before a long simulation.

    Raises
    ------
    ValueError
        The extension names no format in :data:`FORMATS`.
    FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError
        The directory is missing or is not a directory, the path (or one of
        its sibling tables) is a directory, or no file can be created in the
        directory.
    """
    _extension(path)
    target = Path(path)
    parent = target.parent
    where = os.fspath(parent) or "."
    if not parent.exists():
        raise FileNotFoundError(
            f"cannot write {os.fspath(path)!r}: its directory {where!r} does not exist"
        )
    if not parent.is_dir():
        raise NotADirectoryError(f"cannot write {os.fspath(path)!r}: {where!r} is not a directory")
    for file in output_paths(target, paths=True, tornado=True).values():
        if file.is_dir():
            raise IsADirectoryError(f"cannot write {os.fspath(file)!r}: it is a directory")
    # Try it: permissions, read-only file systems and ACLs all answer the same way.
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except OSError as err:
        raise PermissionError(
            f"cannot write {os.fspath(path)!r}: cannot create a file in {where!r} "
            f"({err.strerror or err})"
        ) from None
    os.close(fd)
    os.remove(probe)


# --- what a result is ----------------------------------------------------------------------

#: Attributes every :func:`montecarlo.simulate` result carries (its provenance).
RESULT_ATTRS = ("n_paths", "horizon_months", "seed", "backend", "model_spec", "scenario")
#: Variables every simulate result holds.
RESULT_VARS = ("cash", "p_ruined", "p_profitable")


def _kind_of(ds: xr.Dataset) -> str | None:
    """What a Dataset that is not a simulate result looks like, in words (None: unknown)."""
    if "scenario" in ds.dims:
        return "a compare or sweep result (it has a scenario dimension)"
    if "S1" in ds.data_vars:
        return "Sobol indices (montecarlo sensitivity --method sobol)"
    if "swing" in ds.data_vars:
        return "a tornado (montecarlo sensitivity)"
    if "estimate" in ds.data_vars and "status" in ds.data_vars:
        return "a break-even price"
    return None


def check_result(ds: Any, name: str = "ds") -> xr.Dataset:
    """Return ``ds`` if it is a :func:`montecarlo.simulate` result, else raise naming ``name``.

    A simulate result is recognised by its provenance attributes (:data:`RESULT_ATTRS`),
    its ``month`` and ``quantile`` dims and its variables (:data:`RESULT_VARS`).

    Raises
    ------
    TypeError
        ``ds`` is not an ``xarray.Dataset``.
    ValueError
        It is empty, another montecarlo result (compare, sensitivity, break-even), or
        lacks what a simulate result holds.
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(
            f"{name} must be an xarray.Dataset from montecarlo.simulate, got "
            f"{type(ds).__name__}"
        )
    if not ds.variables and not ds.attrs:
        raise ValueError(f"{name} is an empty Dataset, not a montecarlo simulate result")
    kind = _kind_of(ds)
    if kind is not None:
        raise ValueError(f"{name} is {kind}, not a montecarlo simulate result")
    missing = [k for k in RESULT_ATTRS if k not in ds.attrs]
    missing += [k for k in ("month", "quantile") if k not in ds.dims]
    missing += [k for k in RESULT_VARS if k not in ds.data_vars]
    if missing:
        raise ValueError(
            f"{name} is not a montecarlo simulate result: it lacks {', '.join(missing)}"
        )
    return ds


def _check_tornado(tornado: Any) -> None:
    if tornado is not None and not isinstance(tornado, xr.Dataset):
        raise TypeError(
            f"tornado must be None or an xarray.Dataset from montecarlo.sensitivity.tornado, "
            f"got {type(tornado).__name__}"
        )
    if tornado is not None and "swing" not in tornado.data_vars:
        raise ValueError("tornado is not a montecarlo.sensitivity.tornado result (no swing)")


# --- dispatch ------------------------------------------------------------------------------


def write(
    ds: xr.Dataset, path: str | os.PathLike, *, tornado: xr.Dataset | None = None
) -> list[Path]:
    """Write a :func:`montecarlo.simulate` result in the format its extension names.

    Parameters
    ----------
    ds : xarray.Dataset
        One run's result.
    path : str or os.PathLike
        ``.nc``, ``.parquet``, ``.csv``, ``.json`` or ``.html`` (see :data:`FORMATS`
        and docs/exports.md). A missing directory is created.
    tornado : xarray.Dataset, optional
        A :func:`montecarlo.sensitivity.tornado` result to include (tables, JSON,
        report); a NetCDF file holds ``ds`` only.

    Returns
    -------
    list of pathlib.Path
        The files written: one, or for ``.csv`` and ``.parquet`` the summary and
        its sibling tables. A stale sibling from an earlier export to the same
        path that this one does not write (``.paths`` of a run without per-path
        outcomes, ``.tornado`` without a tornado) is removed, so the files
        beside a result always belong to it.
    """
    check_result(ds, "ds")
    _check_tornado(tornado)
    ext = _extension(path)
    if ext == ".nc":
        return [write_netcdf(ds, path)]
    if ext == ".json":
        return [write_json(ds, path, tornado=tornado)]
    if ext == ".html":
        from .report import write_html

        return [write_html(ds, path, tornado=tornado)]
    return write_tables(ds, path, tornado=tornado)


# --- NetCDF --------------------------------------------------------------------------------


def _encode_attrs(attrs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Attributes NetCDF-3 can hold, and the kinds to restore: text, int32 and float pass."""
    out, kinds = {}, {}
    for key, value in attrs.items():
        if isinstance(value, (str, float, np.floating)):
            out[key] = value
        elif isinstance(value, (bool, np.bool_)):
            out[key], kinds[key] = int(value), "bool"
        elif isinstance(value, (int, np.integer)):
            if _INT32.min <= value <= _INT32.max:
                out[key] = value
            else:
                out[key], kinds[key] = str(int(value)), "int"
        elif isinstance(value, np.ndarray):
            out[key] = json.dumps(value.tolist())
            kinds[key] = f"ndarray:{value.dtype.str}"
        else:
            try:
                out[key] = json.dumps(value)
            except TypeError:
                raise TypeError(
                    f"attribute {key!r} ({type(value).__name__}) cannot be written to NetCDF: "
                    f"use text, numbers, or lists and mappings of them"
                ) from None
            kinds[key] = "tuple" if isinstance(value, tuple) else "json"
    return out, kinds


def _decode_attrs(attrs: Mapping[str, Any], kinds: Mapping[str, str]) -> dict[str, Any]:
    out = {}
    for key, value in attrs.items():
        kind = kinds.get(key)
        if kind is None:
            out[key] = value.item() if isinstance(value, np.generic) else value
        elif kind == "bool":
            out[key] = bool(value)
        elif kind == "int":
            out[key] = int(value)
        elif kind == "tuple":
            out[key] = tuple(json.loads(value))
        elif kind.startswith("ndarray:"):
            out[key] = np.array(json.loads(value), dtype=kind.split(":", 1)[1])
        else:
            out[key] = json.loads(value)
    return out


def _netcdf3(ds: xr.Dataset) -> xr.Dataset:
    """A copy of ``ds`` NetCDF-3 can store, with what it changes recorded for open_result."""
    dtypes: dict[str, str] = {}
    attr_kinds: dict[str, dict[str, str]] = {}
    variables = {}
    for name, var in ds.variables.items():
        dtype = var.dtype
        if dtype.kind in "iu" and dtype.itemsize > 4 or dtype.kind == "u":
            dtypes[str(name)] = dtype.str
            if var.size and (var.values.min() < _INT32.min or var.values.max() > _INT32.max):
                if np.abs(var.values).max() > 2**53:
                    raise ValueError(f"{name}: integers beyond 2**53 cannot be written to NetCDF-3")
                var = var.astype(np.float64)  # exact below 2**53
            else:
                var = var.astype(np.int32)
        elif dtype.kind in "UO":
            dtypes[str(name)] = dtype.str
        attrs, kinds = _encode_attrs(var.attrs)
        if kinds:
            attr_kinds[str(name)] = kinds
        variables[name] = var.copy(deep=False)
        variables[name].attrs = attrs
    attrs, kinds = _encode_attrs(ds.attrs)
    if kinds:
        attr_kinds[""] = kinds
    # The scipy writer does not keep the order of variables (nor so of dims): record it.
    order = {"data_vars": [str(n) for n in ds.data_vars], "coords": [str(n) for n in ds.coords]}
    manifest = {"dtypes": dtypes, "attrs": attr_kinds, **order}
    out = xr.Dataset(
        {n: v for n, v in variables.items() if n not in ds.coords},
        coords={n: v for n, v in variables.items() if n in ds.coords},
        attrs={**attrs, _ENCODING_ATTR: json.dumps(manifest, sort_keys=True)},
    )
    return out


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a Dataset as NetCDF (netCDF-3 64-bit offset through scipy: no C library needed).

    Dtypes NetCDF-3 lacks (int64, unsigned, unicode) and attributes it cannot hold
    (booleans, lists, mappings) are recorded in the ``montecarlo_netcdf_encoding``
    attribute, from which :func:`open_result` restores the Dataset exactly.
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    if _ENCODING_ATTR in ds.attrs:
        raise ValueError(f"the Dataset already has a {_ENCODING_ATTR!r} attribute")
    encoded = _netcdf3(ds)
    with atomic_path(path) as tmp:
        encoded.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT")
    return Path(path)


def open_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """Reopen any Dataset :func:`write_netcdf` wrote (a simulate, compare or sensitivity
    result), identical to the Dataset written; the data are loaded and the file closed.

    Raises
    ------
    ValueError
        The file is not a NetCDF file (empty, truncated, another format), or one that
        montecarlo did not write (it lacks the ``montecarlo_netcdf_encoding`` attribute);
        the message names the file.
    FileNotFoundError, IsADirectoryError, PermissionError
        As for any file.
    """
    where = os.fspath(path)
    if Path(path).suffix.lower() != ".nc":
        raise ValueError(f"open_result reads .nc files (write's NetCDF), got {where!r}")
    # Read through a file object we close ourselves (and without mmap): scipy leaves the
    # file of a failed open (empty, truncated) to the garbage collector.
    with open(path, "rb") as handle:
        try:
            with xr.open_dataset(handle, engine="scipy") as f:
                ds = f.load()
        except Exception as err:  # scipy and xarray raise many kinds for a non-NetCDF file
            failure = type(err).__name__
        else:
            failure = None
    if failure is not None:
        raise ValueError(
            f"{where}: not a NetCDF file montecarlo can read (empty, truncated or another "
            f"format; reading it raised {failure})"
        )
    if _ENCODING_ATTR not in ds.attrs:
        raise ValueError(
            f"{where}: a NetCDF file that montecarlo did not write (it lacks the "
            f"{_ENCODING_ATTR} attribute), not a montecarlo result"
        )
    try:
        return _decode(ds)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise ValueError(
            f"{where}: its {_ENCODING_ATTR} attribute is damaged ({type(err).__name__}: {err})"
        ) from None


def open_result(path: str | os.PathLike) -> xr.Dataset:
    """Reopen a :func:`montecarlo.simulate` result written by :func:`write`, identical to the
    Dataset written.

    Values, dims, coordinates, dtypes and attributes (with their Python types)
    come back as they were, so ``ds.risk.summary()`` and the report work on it.
    The data are loaded into memory and the file is closed.

    Raises
    ------
    ValueError
        Naming the file, for anything but a simulate result: an empty, truncated or
        foreign file, a NetCDF file montecarlo did not write, or another montecarlo
        result (compare, sweep, sensitivity; :func:`open_netcdf` reopens those).
    """
    ds = open_netcdf(path)
    return check_result(ds, os.fspath(path))


def _decode(ds: xr.Dataset) -> xr.Dataset:
    manifest = json.loads(ds.attrs.get(_ENCODING_ATTR, "{}"))
    kinds = manifest.get("attrs", {})
    dtypes = manifest.get("dtypes", {})
    variables = {}
    for name, var in ds.variables.items():
        dtype = dtypes.get(str(name))
        if dtype is not None:
            var = var.astype(np.dtype(dtype))
        var = var.copy(deep=False)
        var.attrs = _decode_attrs(var.attrs, kinds.get(str(name), {}))
        var.encoding = {}
        variables[name] = var
    attrs = {k: v for k, v in ds.attrs.items() if k != _ENCODING_ATTR}
    data_vars = manifest.get("data_vars", [str(n) for n in ds.data_vars])
    coords = manifest.get("coords", [str(n) for n in ds.coords])
    return xr.Dataset(
        {n: variables[n] for n in data_vars},
        coords={n: variables[n] for n in coords},
        attrs=_decode_attrs(attrs, kinds.get("", {})),
    )


# --- tables --------------------------------------------------------------------------------


def summary_table(ds: xr.Dataset) -> pd.DataFrame:
    """``ds.risk.summary()`` as a table: metric, estimate, se, ci_low, ci_high, units, se_method."""
    summary = ds.risk.summary()
    columns = ["estimate", "se", "ci_low", "ci_high", "units", "se_method"]
    table = pd.DataFrame({"metric": summary["metric"].values.astype(str)})
    for c in columns:
        values = summary[c].values
        table[c] = values.astype(str) if values.dtype.kind in "UO" else values
    return table


def months_table(ds: xr.Dataset) -> pd.DataFrame:
    """The per-month distributions, long: outcome, month, statistic, quantile, value, units.

    ``statistic`` is ``quantile`` (at level ``quantile``), ``mean``, ``std``, or
    ``probability`` (``p_profitable``, ``p_ruined``); ``quantile`` is empty
    (NaN) for the last three.
    """
    month = ds["month"].values
    frames = []

    def rows(outcome, statistic, level, values, units):
        frames.append(
            pd.DataFrame(
                {
                    "outcome": outcome,
                    "month": month,
                    "statistic": statistic,
                    "quantile": level,
                    "value": np.asarray(values, dtype=np.float64),
                    "units": units,
                }
            )
        )

    fans = [n for n, v in ds.data_vars.items() if v.dims == ("quantile", "month")]
    for name in fans:
        var = ds[name]
        units = str(var.attrs.get("units", ""))
        for q in ds["quantile"].values:
            rows(name, "quantile", float(q), var.sel(quantile=q).values, units)
        for stat in ("mean", "std"):
            if f"{name}_{stat}" in ds:
                rows(name, stat, np.nan, ds[f"{name}_{stat}"].values, units)
    done = {*fans, *(f"{n}_{s}" for n in fans for s in ("mean", "std"))}
    for name, var in ds.data_vars.items():
        if var.dims == ("month",) and name not in done:
            statistic = "probability" if str(name).startswith("p_") else "value"
            rows(str(name), statistic, np.nan, var.values, str(var.attrs.get("units", "")))
    if not frames:
        raise ValueError("the Dataset holds no per-month outcomes on (quantile, month)")
    table = pd.concat(frames, ignore_index=True)
    table["month"] = table["month"].astype(np.int64)
    return table


def paths_table(ds: xr.Dataset) -> pd.DataFrame | None:
    """One row per path: ``path``, the per-path outcomes, then the sampled inputs by name.

    None when the run kept no per-path outcomes (``keep_paths=False``).
    """
    if "path" not in ds.dims:
        return None
    table = pd.DataFrame({"path": ds["path"].values})
    for name, var in ds.data_vars.items():
        if var.dims == ("path",):
            table[str(name)] = var.values
    if "inputs" in ds and ds["inputs"].dims == ("path", "input"):
        for j, name in enumerate(ds["input"].values):
            table[str(name)] = ds["inputs"].values[:, j]
    return table


def tornado_table(tornado: xr.Dataset) -> pd.DataFrame:
    """A tornado Dataset (:func:`montecarlo.sensitivity.tornado`) as a table, one row per input."""
    table = pd.DataFrame({"input": tornado["input"].values.astype(str)})
    if "input_unit" in tornado.coords:
        table["input_unit"] = tornado["input_unit"].values.astype(str)
    for name in ("low_value", "high_value", "metric_low", "metric_high", "swing", "swing_se"):
        table[name] = tornado[name].values
    return table


def _provenance_json(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _plain(v) for k, v in attrs.items()}


def _write_parquet(table: pd.DataFrame, path: Path, meta: Mapping[str, str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    extra = {f"montecarlo.{k}".encode(): v.encode() for k, v in meta.items()}
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **extra})
    pq.write_table(arrow, path)


def write_tables(
    ds: xr.Dataset, path: str | os.PathLike, *, tornado: xr.Dataset | None = None
) -> list[Path]:
    """Write the summary, months, paths (and tornado) tables as CSV or Parquet, atomically.

    File names: :func:`output_paths`. Parquet files carry the run's provenance
    as JSON in their schema metadata (key ``montecarlo.provenance``).
    """
    check_result(ds, "ds")
    _check_tornado(tornado)
    ext = _extension(path)
    if ext not in (".csv", ".parquet"):
        raise ValueError(f"write_tables writes .csv or .parquet, got {os.fspath(path)!r}")
    tables = {"summary": summary_table(ds), "months": months_table(ds)}
    per_path = paths_table(ds)
    if per_path is not None:
        tables["paths"] = per_path
    if tornado is not None:
        tables["tornado"] = tornado_table(tornado)
    files = output_paths(path, paths=per_path is not None, tornado=tornado is not None)
    stale = [
        f
        for name, f in output_paths(path, paths=True, tornado=True).items()
        if name not in files and f.is_file()
    ]
    provenance = json.dumps(_provenance_json(ds.attrs), allow_nan=False)
    names = list(files)
    with atomic_paths([files[n] for n in names]) as tmps:
        for name, tmp in zip(names, tmps, strict=True):
            if ext == ".csv":
                tables[name].to_csv(tmp, index=False)
            else:
                meta = {"table": name, "schema": "montecarlo.tables/1", "provenance": provenance}
                if name == "tornado":
                    meta["tornado"] = json.dumps(_provenance_json(tornado.attrs), allow_nan=False)
                _write_parquet(tables[name], tmp, meta)
    for f in stale:
        f.unlink(missing_ok=True)
    return [files[n] for n in names]


# --- JSON ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars and arrays as numbers and lists, NaN and inf as null."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None:
        return None
    return str(value)


def summary_document(ds: xr.Dataset, *, tornado: xr.Dataset | None = None) -> dict[str, Any]:
    """The JSON export as Python data (schema in docs/exports.md)."""
    summary = ds.risk.summary()
    table = summary_table(ds)
    metrics = [
        {
            "metric": row.metric,
            "estimate": _plain(row.estimate),
            "se": _plain(row.se),
            "ci_low": _plain(row.ci_low),
            "ci_high": _plain(row.ci_high),
            "units": row.units,
            "se_method": row.se_method,
        }
        for row in table.itertuples(index=False)
    ]
    doc: dict[str, Any] = {
        "schema": JSON_SCHEMA,
        "provenance": _provenance_json(ds.attrs),
        "confidence": _plain(summary.attrs.get("confidence", 0.95)),
        "n_paths": _plain(summary.attrs.get("n_paths", ds.attrs.get("n_paths"))),
        "metrics": metrics,
        "tornado": None,
    }
    if tornado is not None:
        doc["tornado"] = {
            "attrs": _provenance_json(tornado.attrs),
            "inputs": [
                {k: _plain(v) for k, v in row.items()}
                for row in tornado_table(tornado).to_dict(orient="records")
            ],
        }
    return doc


def write_json(
    ds: xr.Dataset, path: str | os.PathLike, *, tornado: xr.Dataset | None = None
) -> Path:
    """Write the risk summary and provenance as JSON (valid JSON: no NaN or Infinity tokens)."""
    check_result(ds, "ds")
    _check_tornado(tornado)
    text = json.dumps(summary_document(ds, tornado=tornado), indent=2, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return Path(path)
