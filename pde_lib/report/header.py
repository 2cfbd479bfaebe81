"""What a report shows, said first on its page: the parameter file and profile, epochs, model
sizes, seeds, fine-tune counts and the filters applied; and, for a profile marked
``pipeline_test: true``, a banner saying its numbers test the pipeline, not the science."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from pde_lib.report.aggregate import load_results
from pde_lib.report.folders import sweep_folder

BANNER_STYLE = ("background:#fff3cd;border:3px solid #b8860b;color:#4d3800;padding:12px 16px;"
                "margin:8px 0 14px 0;font-size:1.15em;line-height:1.4")


def load_sweep_params(sweep_dir: str | Path):
    """The sweep's frozen ``params.yaml`` as ``StudyParams``, or None if it has none."""
    from pde_lib.params import load_params

    path = sweep_folder(sweep_dir) / "params.yaml"
    return load_params(path) if path.exists() else None


def params_file(sweep_dir: str | Path) -> str:
    """The parameter file the sweep was started with (``sweep.json``), else its frozen copy."""
    folder = sweep_folder(sweep_dir)
    meta = folder / "sweep.json"
    if meta.exists():
        return str(json.loads(meta.read_text()).get("params_file", ""))
    return "params.yaml (frozen copy in the sweep folder)"


def published_run(sweep_dir: str | Path) -> str | None:
    """One line on the run behind a published folder (its ``run.json``: commit, machine, wall
    time), or None for a sweep folder that was not published."""
    path = sweep_folder(sweep_dir) / "run.json"
    if not path.exists():
        return None
    r = json.loads(path.read_text())
    m = r.get("machine", {})
    return (f"commit {str(r.get('git_commit'))[:12]}; {m.get('cpu', 'unknown CPU')}, {m.get('logical_cpus')} "
            f"logical CPUs, {r.get('workers')} worker(s) x {r.get('torch_threads')} torch thread(s), torch "
            f"{m.get('torch')}; wall time {r.get('wall_time')} for {r.get('cells')} cells and {r.get('finetunes')} "
            f"fine-tunes (data, pretraining, fine-tuning, reports), started {r.get('started') or 'unrecorded'}")


def model_sizes(params) -> dict[str, str]:
    """Backbone name -> "N parameters (kwargs)" as the study builds it."""
    from pde_lib.models import build_model

    out = {}
    for name, kwargs in params.grid.models.items():
        model = build_model(name, in_frames=params.finetune.window, coeff_dim=5,
                            condition_on_coeffs=params.finetune.condition_on_coeffs, **dict(kwargs))
        n = sum(p.numel() for p in model.parameters())
        args = ", ".join(f"{k}={v}" for k, v in dict(kwargs).items())
        out[name] = f"{n:,} parameters ({args or 'defaults'})"
    return out


def subgrid_text(sub) -> str:
    """One line on what a sub-grid covers (its description first)."""
    ft = sub["finetune"]
    augs = ", ".join("+".join(a) or "none" for a in sub["augmentations"])
    where = [f"{', '.join(ft['pdes'])} ({', '.join(ft['distributions'])})"] if ft["pdes"] else []
    if ft["navier_stokes"]:
        where.append("Navier-Stokes")
    text = (f"models {', '.join(sub['models'])}; strategies {', '.join(sub['strategies'])}; augmentations {augs}; "
            f"seeds {', '.join(map(str, sub['seeds']))}; fine-tunes {' + '.join(where)} at "
            f"{', '.join(map(str, ft['samples']))} samples")
    return f"{sub['description']}: {text}" if sub.get("description") else text


def shown_path(folder: str | Path) -> str:
    """``folder`` as a reader should see it: relative to the project root if it lies inside it
    (``outputs/published/laptop``), else as given."""
    from pde_lib.utils.provenance import PROJECT_ROOT

    p = Path(folder)
    if p.is_absolute():
        try:
            return str(p.relative_to(PROJECT_ROOT))
        except ValueError:
            return str(p)
    return str(p)


def joined_text(extra_dirs) -> str:
    """One entry per folder joined to a report's sweep: its profile, fine-tune count and seeds,
    and its published run if any."""
    parts = []
    for d in extra_dirs:
        params, own, run = load_sweep_params(d), load_results(d), published_run(d)
        seeds = ", ".join(map(str, sorted(own["seed"].unique().tolist())))
        parts.append(f"{shown_path(d)} ({params.name if params is not None else 'unknown profile'}: {len(own)} fine-tunes, "
                     f"seeds {seeds}" + (f"; {run}" if run else "") + ")")
    return "; ".join(parts)


def header_facts(sweep_dir, results: pd.DataFrame, selected: pd.DataFrame, filters: dict,
                 extra_dirs=()) -> list[tuple[str, str]]:
    """(label, text) pairs describing the run behind a report (plain text, deterministic);
    ``extra_dirs``: folders whose results were joined to the sweep's (``aggregate.join_results``)."""
    params = load_sweep_params(sweep_dir)
    shown = ", ".join(f"{k}={'all' if v is None else v}" for k, v in filters.items()) or "none"
    facts = []
    run = published_run(sweep_dir)
    if run is not None:
        facts.append(("published run", run))
    if params is not None:
        f, p = params.finetune, params.pretrain
        subs = params.grid.get("subgrids") or []
        counts = sorted({n for sub in subs for n in sub["finetune"]["samples"]} or set(f.samples))
        facts += [("parameter file", params_file(sweep_dir)),
                  ("profile", f"{params.name}: {params.description}".rstrip(": ")),
                  ("pretraining", f"{p.epochs} epoch(s), {params.data.pretrain_samples} trajectories per PDE; "
                                  "one pretraining run per (model, strategy, augmentation, seed), none shared "
                                  "across seeds" + ("; augmented cells pretrain on augmented data" if p.get("augment")
                                                    else "")),
                  ("fine-tuning", f"{f.epochs} epoch(s), sample counts {', '.join(map(str, counts))}; "
                                  f"{params.data.samples.test} test samples per PDE and distribution")]
        facts += [(f"model {name}", text) for name, text in model_sizes(params).items()]
        if subs:
            facts.append(("design", f"a union of {len(subs)} sub-grids, not a full product: each cell runs only "
                                    "the fine-tunes of the sub-grids that hold it, so tables average over "
                                    "what exists (compare like with like through the filters)"))
            facts += [(f"sub-grid {sub['name']}", subgrid_text(sub)) for sub in subs]
    if extra_dirs:
        facts.append(("joined with", joined_text(extra_dirs)))
    seeds = sorted(results["seed"].unique().tolist())
    facts += [("seeds", f"{len(seeds)} ({', '.join(map(str, seeds))})"),
              ("fine-tunes", f"{len(results)} in the sweep{' and the joined folders' if extra_dirs else ''} "
                             f"({results['cell_id'].nunique()} cells); "
                             f"{len(selected)} shown here"),
              ("filters applied", shown)]
    return facts


#: the facts a reader needs before the first result; the rest fold away under "How it was run"
VISIBLE_FACTS = ("seeds", "fine-tunes", "filters applied")


def report_header(sweep_dir, results: pd.DataFrame, selected: pd.DataFrame, filters: dict,
                  extra_dirs=()) -> str:
    """HTML: the pipeline-test banner (if the profile sets ``pipeline_test``) and the facts list."""
    params = load_sweep_params(sweep_dir)
    parts = []
    if params is not None and params.get("pipeline_test", False):
        parts.append(f'<div style="{BANNER_STYLE}"><b>Pipeline test, not results.</b> Profile '
                     f'<code>{html.escape(params.name)}</code> is marked <code>pipeline_test: true</code>: '
                     f"its models are tiny and trained for {params.finetune.epochs} epoch(s), so these "
                     "numbers test the pipeline, not the science. Compare them with the baselines "
                     "(copy last frame, zero prediction) before reading anything into them.</div>")
    facts = header_facts(sweep_dir, results, selected, filters, extra_dirs)
    item = lambda k, v: f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>"  # noqa: E731
    shown = "".join(item(k, v) for k, v in facts if k in VISIBLE_FACTS)
    rest = "".join(item(k, v) for k, v in facts if k not in VISIBLE_FACTS)
    parts.append(f"<p><b>What this page shows</b></p><ul>{shown}</ul>"
                 f"<details><summary>How it was run ({sum(k not in VISIBLE_FACTS for k, _ in facts)} facts: "
                 f"parameters, models, sub-grids, joined folders)</summary><ul>{rest}</ul></details>")
    return "\n".join(parts)
