"""``python -m pde_lib generate``: write one (PDE set, split, distribution) dataset file."""

from __future__ import annotations

from pde_lib.data import GenerationParams, generate_dataset


def add_arguments(p) -> None:
    p.add_argument("--pdes", required=True, help="comma-separated: heat,advection,burgers or navier_stokes")
    p.add_argument("--split", required=True, choices=["pretrain", "train", "valid", "test"])
    p.add_argument("--distribution", default="id", choices=["id", "ood"])
    p.add_argument("--samples-per-pde", type=int, required=True)
    p.add_argument("--resolution", type=int, default=None, help="stored N (default: 32; 64 for Navier-Stokes)")
    p.add_argument("--seed", type=int, default=0, help="dataset seed; every sample's seed derives from it")
    p.add_argument("--device", default="cpu")
    p.add_argument("--chunk-size", type=int, default=64, help="samples solved (and held in memory) at once")
    p.add_argument("--refine", type=int, default=None,
                   help="compute grid / stored grid, one fixed grid (default per PDE; Burgers: "
                        "a per-sample resolution schedule)")
    p.add_argument("--cfl", type=float, default=None, help="Courant number (default 0.5)")
    p.add_argument("--dtype", choices=["float32", "float64"], default=None, help="solver precision")
    p.add_argument("--out", required=True, help="output .h5 file (written atomically)")
    p.add_argument("--no-progress", action="store_true")


def run(args) -> int:
    params = GenerationParams(
        pdes=[s.strip() for s in args.pdes.split(",") if s.strip()], split=args.split,
        distribution=args.distribution, samples_per_pde=args.samples_per_pde,
        resolution=args.resolution, seed=args.seed, chunk_size=args.chunk_size,
        refine=args.refine, cfl=args.cfl, dtype=args.dtype)
    summary = generate_dataset(params, args.out, device=args.device, progress=not args.no_progress)
    print(summary.format())
    return 0
