"""Peer checks of the backbones (issue 28): a well-kept public implementation of each backbone,
wrapped as a ``Backbone`` and trained by this project's engine with a study's fine-tune configs,
seeds and data draws (``sweep.cell._finetune_config``), only the model swapped.

    python scripts/pilots/peers.py PEER PARAMS.yaml DATA_DIR OUT [--pdes heat,burgers] [--seeds 0,1,2]

PEER (the ``grid.models`` label whose runs it repeats, and its size from that label's kwargs):

- ``neuralop_fno`` (``fno2d``): neuraloperator 2.0's ``FNO(n_modes=(2 m, 2 m - 1),
  hidden_channels=width, n_layers)`` with its defaults (channel MLP of expansion 0.5 with a
  soft-gating skip in every block, linear Fourier skip, lifting and projection MLPs of ratio 2),
  on the same assembled input as FNO2D (frames and x, y; its own positional embedding off).
  ``n_modes`` counts kx over both signs and is halved (+1) for ky by its rfft, so (8, 7) keeps
  FNO2D's 8 x 4 modes at modes 4.
- ``monai_unet`` (``unet``): MONAI's ``UNet(spatial_dims=2, channels=channels, strides=(2, ...),
  num_res_units=2)`` with its defaults (PReLU, instance norm, zero padding, strided convolutions
  down and transposed convolutions up), on the same assembled input as U-Net; ``--peer-kwargs
  '{"norm": null}' --tag monai_unet_nonorm`` without the normalisation.
- ``deepxde_deeponet`` (``deeponet2d``): DeepXDE's ``DeepONetCartesianProd``, the reference
  DeepONet: a fully connected branch over the input frames at every grid point
  [T N^2, branch_hidden, branch_hidden, basis], a fully connected trunk over the point's (x, y)
  [2, 128, 128, 128, basis], ReLU, Glorot-normal initialisation, one output bias.

The peers are NOT project dependencies: install them apart from the project's venv, e.g.
``pip install --no-deps --target DIR neuraloperator tensorly tensorly-torch opt-einsum monai
deepxde scikit-optimize scikit-learn threadpoolctl joblib`` and ``PYTHONPATH=.:DIR``
(``DDE_BACKEND=pytorch`` for DeepXDE; never another torch). Writes
OUT/<peer cell id>/<fine-tune id>/metrics.json and cost.json, and OUT/runs.csv as run_finetunes.py."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_finetunes import report, run_and_record, run_row  # noqa: E402  (the same run records)


def _backbone_base():
    """A ``Backbone`` whose ``encode`` is the whole peer network and whose state dict holds
    tensors only (neuraloperator adds its init kwargs as ``_metadata``, a dict, which the engine's
    best-state snapshot cannot hold)."""
    from pde_lib.models.base import Backbone

    class PeerBackbone(Backbone):
        def decode(self, h):
            return h

        def state_dict(self, *args, **kwargs):
            sd = super().state_dict(*args, **kwargs)
            for key in [k for k, v in sd.items() if not isinstance(v, torch.Tensor)]:
                del sd[key]
            return sd

    return PeerBackbone


def register_neuralop_fno():
    from neuralop.models import FNO

    from pde_lib.models.base import MODELS

    @MODELS.register("neuralop_fno")
    class NeuralopFNO(_backbone_base()):
        """(B, T, N, N) -> (B, 1, N, N) by neuraloperator's FNO."""

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

    return lambda kw: {"width": kw.get("width", 48), "modes": kw.get("modes", 4), "n_layers": kw.get("n_layers", 4)}


def register_monai_unet():
    from monai.networks.nets import UNet

    from pde_lib.models.base import MODELS

    @MODELS.register("monai_unet")
    class MonaiUNet(_backbone_base()):
        """(B, T, N, N) -> (B, 1, N, N) by MONAI's UNet (2 residual units per level)."""

        name = "monai_unet"

        def __init__(self, in_frames=8, coeff_dim=5, condition_on_coeffs=False, coeff_scale=None,
                     channels=(16, 32, 64), norm="INSTANCE"):
            channels = [int(c) for c in channels]
            super().__init__(in_frames, coeff_dim, condition_on_coeffs, coeff_scale, channels=channels, norm=norm)
            self.feature_channels = 1
            self.net = UNet(spatial_dims=2, in_channels=self.in_channels, out_channels=1, channels=channels,
                            strides=[2] * (len(channels) - 1), num_res_units=2, norm=norm)

        def encode(self, frames, grid, coeffs=None):
            return self.net(self.assemble_input(frames, grid, coeffs))

    return lambda kw: {"channels": list(kw.get("channels", [16, 32, 64]))}


def register_deepxde_deeponet():
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    from deepxde.nn.pytorch import DeepONetCartesianProd

    from pde_lib.models.base import MODELS

    @MODELS.register("deepxde_deeponet")
    class DeepXDEDeepONet(_backbone_base()):
        """(B, T, N, N) -> (B, 1, N, N) by DeepXDE's DeepONetCartesianProd: branch over the
        flattened frames (B, T N^2), trunk over the N^2 grid points' (x, y)."""

        name = "deepxde_deeponet"

        def __init__(self, in_frames=8, coeff_dim=5, condition_on_coeffs=False, coeff_scale=None,
                     basis=64, branch_hidden=128, n_points=32 * 32):
            super().__init__(in_frames, coeff_dim, condition_on_coeffs, coeff_scale,
                             basis=basis, branch_hidden=branch_hidden, n_points=n_points)
            self.feature_channels = 1
            self.net = DeepONetCartesianProd([in_frames * n_points, branch_hidden, branch_hidden, basis],
                                             [2, 128, 128, 128, basis], "relu", "Glorot normal")

        def encode(self, frames, grid, coeffs=None):
            b, _, n, _ = frames.shape
            g = self.check_grid(frames, grid)  # (2, N, N)
            y = self.net((frames.flatten(1), g.flatten(1).T))  # (B, N*N)
            return y.reshape(b, 1, n, n)

    return lambda kw: {"basis": kw.get("basis", 64), "branch_hidden": kw.get("branch_hidden", 128)}


#: peer name -> (the grid.models label whose runs it repeats, its registration)
PEERS = {
    "neuralop_fno": ("fno2d", register_neuralop_fno),
    "monai_unet": ("unet", register_monai_unet),
    "deepxde_deeponet": ("deeponet2d", register_deepxde_deeponet),
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=sorted(PEERS))
    ap.add_argument("params")
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--label", default=None, help="the grid.models label whose runs the peer repeats")
    ap.add_argument("--pdes", default=None)
    ap.add_argument("--seeds", default=None, help="comma-separated seeds (default: all)")
    ap.add_argument("--peer-kwargs", default="{}", help="JSON: keyword arguments added to the peer's")
    ap.add_argument("--tag", default=None, help="the runs' label (default: PEER), e.g. for --peer-kwargs variants")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    default_label, register = PEERS[args.peer]
    label = args.label or default_label
    peer_kwargs_of = register()
    extra_kwargs = json.loads(args.peer_kwargs)
    tag = args.tag or args.peer

    from pde_lib.params import load_params
    from pde_lib.sweep import cell as cell_mod
    from pde_lib.sweep.grid import expand_grid, finetunes

    params = load_params(args.params)
    data = Path(args.data)
    paths = {f"{split}_id": data / f"{split}_id.h5" for split in ("train", "valid", "test")}
    pdes = args.pdes.split(",") if args.pdes else None
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    out = Path(args.out)
    rows = []
    for cell in expand_grid(params):
        if cell.model != label or cell.strategy != "none" or (seeds is not None and cell.seed not in seeds):
            continue
        peer_kwargs = {**peer_kwargs_of(cell.model_kwargs), **extra_kwargs}
        for ft in finetunes(params, cell):
            if pdes is not None and ft.pde not in pdes:
                continue
            run_dir = out / cell.id.replace(label, tag, 1) / ft.id
            cfg = cell_mod._finetune_config(cell, ft, params, "cpu", paths, None, run_dir, False)
            cfg.model, cfg.model_kwargs, cfg.resume = args.peer, dict(peer_kwargs), False
            m, cost = run_and_record(cfg, run_dir)
            rows.append(run_row(tag, args.peer, cell, ft, m, cost))
            report(f"{tag} s{cell.seed}", ft, m, rows, out)

if __name__ == "__main__":
    main()
