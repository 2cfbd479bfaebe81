"""Did the study's chunks read the same data? (docs/preregistration.md, sections 8 and Deviations)

Every chunk records its data files in ``datasets.json``: the generation parameters, the file's
SHA-256 and (sweeps prepared since study v2's chunks ran) ``values_sha256`` (a digest of the values alone,
``data.checksum.file_values_checksum``). A session regenerates the files from the same parameters,
and a file's bytes hold its creation time, so the file SHA-256 differs between sessions even when
every value is equal. The rule here:

- the generation parameters of a file must be equal in every chunk, and so must ``values_sha256``
  where two chunks recorded it: else the chunks read different data (DataError);
- chunks whose files were regenerated without a values digest are compared through the test data
  themselves: a test sample's copy-last error (predict the last input frame; a function of that
  sample alone, stored in ``per_sample.csv``) must agree across chunks to ``COPY_LAST_TOLERANCE``
  relative. Equal parameters on another CPU can round a float32 solve differently; more than
  rounding is a DataError.

``data_consistency`` returns the record the study's page shows: which chunks share one generation of
the files, on which CPU, and the largest relative disagreement of the copy-last error per test set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pde_lib.errors import DataError

#: largest relative spread of one test sample's copy-last error across chunks still read as the
#: same data (float32 rounding is about 1e-7 relative per operation; a different draw is order 1)
COPY_LAST_TOLERANCE = 1e-4


@dataclass
class DataConsistency:
    """``generations``: one row per chunk (chunk, cpu, generation: chunks with one label share every
    data file byte for byte); ``test_sets``: one row per test set compared across generations
    (test set, samples, chunks, bitwise equal samples, largest relative spread of the copy-last error)."""
    generations: pd.DataFrame
    test_sets: pd.DataFrame

    @property
    def regenerated(self) -> bool:
        return self.generations["generation"].nunique() > 1


def read_record(path: Path, why: str) -> dict:
    """A chunk's JSON record; DataError naming ``path`` if it is missing (with ``why``: what
    writes it) or not JSON."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: missing; {why}") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None


def _read(path: Path) -> dict:
    return read_record(path, "a published chunk records its data files and its run there "
                             "(python -m pde_lib publish writes them)")


def _cpu(folder: Path) -> str:
    path = folder / "run.json"
    if not path.exists():
        return ""
    run = _read(path)
    return str((run.get("machine") or {}).get("cpu", ""))


def check_same_recipe(records: dict[Path, dict]) -> None:
    """DataError naming the file and both chunks if a data file's generation parameters, or its
    values digest where both chunks recorded one, differ between chunks."""
    seen: dict[str, tuple[dict, Path]] = {}
    for folder, recs in records.items():
        for key, rec in recs.items():
            if key not in seen:
                seen[key] = (rec, folder)
                continue
            first, where = seen[key]
            for field in ("params", "values_sha256"):
                a, b = first.get(field), rec.get(field)
                if a is not None and b is not None and a != b:
                    raise DataError(f"data file {key} has {field} {str(b)[:60]} in {folder} but {str(a)[:60]} in "
                                    f"{where}: the chunks did not read the same data")


def copy_last_agreement(folders: list[Path]) -> pd.DataFrame:
    """Per test set (a fine-tune's ``finetune_id`` without its sample count: task, distribution,
    PDE) the agreement across ``folders`` of each test sample's copy-last error."""
    frames = []
    for folder in folders:
        path = folder / "per_sample.csv"
        if not path.exists():
            raise DataError(f"{path}: missing; the chunks' data files were regenerated, and whether they hold the "
                            "same values is told by the per-sample copy-last errors of the test sets")
        t = pd.read_csv(path, usecols=["finetune_id", "sample", "copy_last_rel_l2"])
        t["test_set"] = t["finetune_id"].str.replace(r"__n\d+$", "", regex=True)
        frames.append(t.drop_duplicates(["test_set", "sample"]).assign(chunk=folder.name))
    t = pd.concat(frames, ignore_index=True)
    rows = []
    for test_set, g in t.groupby("test_set", sort=True):
        by_sample = g.groupby("sample")["copy_last_rel_l2"]
        lo, hi, mean = by_sample.min(), by_sample.max(), by_sample.mean().abs()
        spread = ((hi - lo) / mean.where(mean > 0, 1.0)).to_numpy()
        rows.append({"test set": test_set, "samples": int(by_sample.ngroups), "chunks": int(g["chunk"].nunique()),
                     "bitwise equal samples": int((hi == lo).sum()),
                     "largest relative spread": float(np.max(spread)) if len(spread) else 0.0})
    return pd.DataFrame(rows)


def data_consistency(folders: list[Path]) -> DataConsistency:
    """Check (module doc) that ``folders`` read the same data, and say how: DataError if not."""
    records = {f: _read(f / "datasets.json") for f in folders if (f / "datasets.json").exists()}
    check_same_recipe(records)
    keys = sorted({k for recs in records.values() for k in recs})
    labels: dict[tuple, str] = {}
    gen = []
    for f in folders:
        recs = records.get(f, {})
        sig = tuple(str(recs.get(k, {}).get("values_sha256") or recs.get(k, {}).get("sha256")) for k in keys)
        labels.setdefault(sig, chr(ord("A") + len(labels)))
        gen.append({"chunk": f.name, "cpu": _cpu(f), "generation": labels[sig]})
    generations = pd.DataFrame(gen)
    if len(labels) <= 1:  # one generation, or equal values digests (check_same_recipe) everywhere
        return DataConsistency(generations, pd.DataFrame())
    test_sets = copy_last_agreement(folders)
    worst = test_sets.loc[test_sets["largest relative spread"].idxmax()]
    if worst["largest relative spread"] > COPY_LAST_TOLERANCE:
        raise DataError(f"test set {worst['test set']}: a sample's copy-last error differs by "
                        f"{worst['largest relative spread']:.2g} relative between chunks (more than the "
                        f"{COPY_LAST_TOLERANCE:g} of float rounding): the chunks did not read the same data")
    return DataConsistency(generations, test_sets)


def consistency_paragraph(dc: DataConsistency) -> str:
    """One sentence for the study's page: plain text (the caller escapes it)."""
    if not dc.regenerated:
        return "Every chunk read the same data (one file or values digest per data file, datasets.json)."
    groups = dc.generations.groupby("generation", sort=True)
    who = "; ".join(f"{', '.join(g['chunk'])} ({', '.join(sorted(set(g['cpu']) - {''})) or 'CPU not recorded'})"
                    for _, g in groups)
    if dc.test_sets.empty:
        return f"The data files were regenerated from the same parameters with equal values: {who}."
    exact = dc.test_sets[dc.test_sets["bitwise equal samples"] == dc.test_sets["samples"]]["test set"].tolist()
    rounded = dc.test_sets[dc.test_sets["bitwise equal samples"] < dc.test_sets["samples"]]
    text = (f"The data files were regenerated from the same parameters in {len(dc.generations['generation'].unique())} "
            f"sessions: {who}. Each test sample's copy-last error, a function of that sample alone, is bitwise "
            f"equal across all chunks for {len(exact)} of {len(dc.test_sets)} test sets")
    if len(rounded):
        worst = rounded["largest relative spread"].max()
        text += (f"; in {', '.join(rounded['test set'])} it differs by at most {worst:.2g} relative (a float32 "
                 f"solver's rounding, which can differ between CPUs; at most {COPY_LAST_TOLERANCE:g} is read as "
                 "rounding), not a different draw")
    return text + "."
