"""Numpy columns to PostgreSQL's binary COPY format, without a Python call per row.

Formatting a million result rows as text (pandas' to_csv: floats with six decimals) cost
four times the COPY itself. In the binary format every field of these tables has a fixed
width except text, so the rows are one uint8 matrix (text padded to its longest value) from
which one boolean selection drops the padding. Numbers are big-endian; a date is days
since 2000-01-01; a numeric is base-10000 digits (a fixed five, which PostgreSQL strips).
"""

import numpy as np
import pandas as pd
from django.db import models

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
PG_EPOCH = np.datetime64("2000-01-01", "D")
NUMERIC_DIGITS = 5  # base 10000: 10^12, 10^8, 10^4, 10^0 and four decimals
NUMERIC = np.dtype(
    [("ndigits", ">i2"), ("weight", ">i2"), ("sign", ">u2"), ("dscale", ">i2"),
     ("digits", ">i2", (NUMERIC_DIGITS,))]
)  # fmt: skip
FIXED = {
    "BigIntegerField": ">i8",
    "BigAutoField": ">i8",
    "ForeignKey": ">i8",  # the ids here are bigint
    "IntegerField": ">i4",
    "PositiveIntegerField": ">i4",
    "SmallIntegerField": ">i2",
    "PositiveSmallIntegerField": ">i2",
    "FloatField": ">f8",
    "DateField": ">i4",
}


def _kind(field) -> str:
    if isinstance(field, models.ForeignKey):
        return "ForeignKey"
    return field.get_internal_type()


def supported(model, names: list[str]) -> bool:
    """Whether every column has a fixed-width encoding here, but at most one text column."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    kinds = [_kind(fields[name]) for name in names]
    texts = sum(kind == "CharField" for kind in kinds)
    known = all(k in FIXED or k in ("DecimalField", "CharField") for k in kinds)
    decimals = all(fields[n].decimal_places <= 4 for n, k in zip(names, kinds, strict=True)
                   if k == "DecimalField")  # fmt: skip
    return known and decimals and texts <= 1


def _numeric(values: np.ndarray, scale: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    # Half away from zero, as PostgreSQL rounds a longer decimal into numeric(p, scale).
    units = np.floor(np.abs(values) * 10**scale + 0.5).astype(np.int64)
    whole, fraction = np.divmod(units, 10**scale)
    out = np.zeros(len(values), dtype=NUMERIC)
    out["ndigits"], out["weight"], out["dscale"] = NUMERIC_DIGITS, NUMERIC_DIGITS - 2, scale
    out["sign"] = np.where(values < 0, 0x4000, 0)
    for i, power in enumerate((12, 8, 4, 0)):
        out["digits"][:, i] = (whole // 10**power) % 10_000
    out["digits"][:, 4] = fraction * 10 ** (4 - scale)
    return out


def _encoded(field, values: np.ndarray) -> np.ndarray:
    kind = _kind(field)
    if kind == "DecimalField":
        return _numeric(values, field.decimal_places)
    if kind == "DateField":
        values = (np.asarray(values).astype("datetime64[D]") - PG_EPOCH).astype(np.int64)
    return np.asarray(values).astype(FIXED[kind])


def _text(values) -> tuple[np.ndarray, np.ndarray]:
    """Each row's text as UTF-8 bytes padded to the longest (dtype S<width>) and its length.
    The distinct values are few (a run has eleven segments): pandas hashes them (numpy's
    unique and == compare Python strings one by one), then each row takes its value by code."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object))
    encoded = [str(value).encode() for value in distinct]
    width = max((len(raw) for raw in encoded), default=0) or 1
    return (
        np.array(encoded or [b""], dtype=f"S{width}")[codes],
        np.array([len(raw) for raw in encoded] or [0], dtype=np.int64)[codes],
    )


def parts(model, columns: dict) -> list[bytes]:
    """The whole COPY ... (FORMAT binary) stream for equally long columns {attname: values},
    in pieces to write one after the other (joining them would copy every byte once more).

    The rows keep their order (the run writes them by customer id, so the unique index on
    (run, customer) is built from presorted rows): one record array with the text padded
    to its longest value, then one boolean selection over its bytes drops the padding."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = list(columns)
    length = len(np.asarray(columns[names[0]]))
    values: dict[str, np.ndarray] = {}
    sizes: dict[str, np.ndarray | int] = {}
    for name in names:
        if _kind(fields[name]) == "CharField":
            values[name], sizes[name] = _text(columns[name])
        else:
            values[name] = _encoded(fields[name], np.asarray(columns[name]))
            sizes[name] = values[name].dtype.itemsize
    layout: list[tuple[str, object]] = [("n", ">i2")]
    for i, name in enumerate(names):
        layout += [(f"l{i}", ">i4"), (f"v{i}", values[name].dtype)]
    record = np.empty(length, dtype=np.dtype(layout))
    record["n"] = len(names)
    for i, name in enumerate(names):
        record[f"l{i}"], record[f"v{i}"] = sizes[name], values[name]
    body = record.view(np.uint8).reshape(length, record.dtype.itemsize)
    keep = None
    offsets = {name: record.dtype.fields[f"v{i}"][1] for i, name in enumerate(names)}  # type: ignore[index]
    for name in names:
        size = sizes[name]
        if isinstance(size, np.ndarray):  # text: keep only each value's own bytes
            keep = np.ones(body.shape, dtype=bool) if keep is None else keep
            start, width = offsets[name], values[name].dtype.itemsize
            keep[:, start : start + width] = np.arange(width) < size[:, None]
    return [HEADER, (body if keep is None else body[keep]).tobytes(), TRAILER]
