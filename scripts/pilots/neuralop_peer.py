"""The peer row of the FNO2D channel-MLP pilot: neuraloperator 2.0's FNO at FNO2D's laptop size,
trained by this project's engine with the same fine-tune configs, seeds and data draws as the
``fno2d`` runs of a study (``sweep.cell._finetune_config``), only the model swapped.

    python scripts/pilots/neuralop_peer.py PARAMS.yaml DATA_DIR OUT [--label fno2d] [--pdes heat,burgers]

The peer: ``neuralop.models.FNO(n_modes=(2 m, 2 m - 1), hidden_channels=width, n_layers)`` with its
defaults (channel MLP of expansion 0.5 with a soft-gating skip in every block, linear Fourier
skip, lifting and projection MLPs of ratio 2), on the same assembled input as FNO2D (frames and
x, y coordinates; its own positional embedding off). ``n_modes`` counts kx over both signs and is
halved (+1) for ky by its rfft, so (8, 7) keeps the same 8 x 4 modes as FNO2D with modes 4.
neuraloperator is NOT a project dependency: install it in a scratch venv with
``pip install --no-deps neuraloperator tensorly tensorly-torch opt-einsum`` (never another torch).
Writes OUT/<cell id>/<fine-tune id>/metrics.json, cost.json and OUT/runs.csv as run_finetunes.py."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pandas as pd
import torch


def register_peer():
    """Register ``neuralop_fno``: a Backbone wrapping neuraloperator's FNO (forward only)."""
    from neuralop.models import FNO

    from pde_lib.models.base import MODELS, Backbone

    @MODELS.register("neuralop_fno")
    class NeuralopFNO(Backbone):
        """(B, T, N, N) -> (B, 1, N, N) by neuraloperator's FNO; encode is the whole model."""

        name = "neuralop_fno"

        def __init__(self, in_frames=8, coeff_dim=5, condition_on_coeffs=False, coeff_scale=None,
                     width=16, modes=4, n_layers=2):
            super().__init__(in_frames, coeff_dim, condition_on_coeffs, coeff_scale,
                             width=width, modes=modes, n_layers=n_layers)
            self.feature_channels = 1
            self.net = FNO(n_modes=(2 * modes, 2 * modes - 1), in_channels=self.in_channels, out_channels=1,
                           hidden_channels=width, n_layers=n_layers, positional_embedding=None)

        def encode(self, frames, grid, coeffs=None):
            return self.net(self.assemble_input(frames, grid, coeffs))

        def decode(self, h):
            return h

        def state_dict(self, *args, **kwargs):
            """Tensors only: neuraloperator adds its init kwargs as ``_metadata`` (a dict), which
            the engine's best-state snapshot (tensor copies) cannot hold."""
            sd = super().state_dict(*args, **kwargs)
            for key in [k for k, v in sd.items() if not isinstance(v, torch.Tensor)]:
                del sd[key]
            return sd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("params")
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--label", default="fno2d", help="the grid.models label whose runs the peer repeats")
    ap.add_argument("--pdes", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    register_peer()

    from pde_lib.params import load_params
    from pde_lib.sweep import cell as cell_mod
    from pde_lib.sweep.grid import expand_grid, finetunes
    from pde_lib.training import run_training

    params = load_params(args.params)
    data = Path(args.data)
    paths = {f"{split}_id": data / f"{split}_id.h5" for split in ("train", "valid", "test")}
    pdes = args.pdes.split(",") if args.pdes else None
    out = Path(args.out)
    rows = []
    for cell in expand_grid(params):
        if cell.model != args.label or cell.strategy != "none":
            continue
        kw = cell.model_kwargs
        peer_kwargs = {"width": kw.get("width", 48), "modes": kw.get("modes", 4), "n_layers": kw.get("n_layers", 4)}
        for ft in finetunes(params, cell):
            if pdes is not None and ft.pde not in pdes:
                continue
            run_dir = out / cell.id.replace(args.label, "neuralop_fno", 1) / ft.id
            metrics_path = run_dir / "metrics.json"
            if not metrics_path.exists():
                cfg = cell_mod._finetune_config(cell, ft, params, "cpu", paths, None, run_dir, False)
                cfg.model, cfg.model_kwargs, cfg.resume = "neuralop_fno", dict(peer_kwargs), False
                load_before, cpu0 = os.getloadavg()[0], time.process_time()
                run_training(cfg)
                cost = {"cpu_time_s": time.process_time() - cpu0, "load_before": load_before,
                        "load_after": os.getloadavg()[0]}
                (run_dir / "cost.json.tmp").write_text(json.dumps(cost, indent=1))
                os.replace(run_dir / "cost.json.tmp", run_dir / "cost.json")
            m = json.loads(metrics_path.read_text())
            cost = json.loads((run_dir / "cost.json").read_text()) if (run_dir / "cost.json").exists() else {}
            rows.append({"model": "neuralop_fno", "backbone": "neuralop_fno", "pde": ft.pde, "samples": ft.samples,
                         "seed": cell.seed, "epochs": m["params"]["epochs"], "epoch_budget": m["params"]["epochs"],
                         "batch_size": m["params"]["batch_size"], "test_rel_l2": m["test_rel_l2"],
                         "valid_rel_l2": m["valid_rel_l2"], "best_epoch": m["best_epoch"],
                         "test_copy_last_rel_l2": m["test_copy_last_rel_l2"], "n_params": m["n_params"],
                         "wall_time_s": m["wall_time_s"], "cpu_time_s": cost.get("cpu_time_s"),
                         "load_before": cost.get("load_before"), "load_after": cost.get("load_after")})
            print(f"peer {cell.seed} {ft.id}: test {m['test_rel_l2']:.4f}, best epoch {m['best_epoch']}/"
                  f"{m['params']['epochs']}, {m['wall_time_s']:.0f} s", flush=True)
            pd.DataFrame(rows).to_csv(out / "runs.csv.tmp", index=False)
            os.replace(out / "runs.csv.tmp", out / "runs.csv")


if __name__ == "__main__":
    main()
