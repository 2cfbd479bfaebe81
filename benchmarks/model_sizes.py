"""Print a markdown table of each backbone's parameter count at the paper-scale defaults and its
output / feature shapes at 32 x 32 and 64 x 64.

    python benchmarks/model_sizes.py
"""

from __future__ import annotations

import torch

from pde_lib.models import MODELS, build_model


def grid(n: int) -> torch.Tensor:
    axis = -1.0 + 2.0 * torch.arange(n, dtype=torch.float32) / n
    return torch.stack(torch.meshgrid(axis, axis, indexing="ij"))


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def main() -> None:
    torch.manual_seed(0)
    print("| model | params | params (coeff. conditioning on) | features | output @ 32 | output @ 64 |")
    print("|---|---:|---:|---|---|---|")
    for name in MODELS.names():
        model = build_model(name).eval()
        conditioned = build_model(name, condition_on_coeffs=True)
        shapes = []
        with torch.no_grad():
            for n in (32, 64):
                y = model(torch.randn(2, model.in_frames, n, n), grid(n))
                shapes.append("x".join(map(str, y.shape)))
        features = f"{model.feature_channels} ch"
        print(f"| {name} | {n_params(model):,} | {n_params(conditioned):,} | {features} | {shapes[0]} | {shapes[1]} |")


if __name__ == "__main__":
    main()
