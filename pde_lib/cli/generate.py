"""``python -m pde_lib generate``: write one (PDE set, split, distribution) dataset file."""

from __future__ import annotations

from pde_lib.cli.checks import add_overwrite_argument, check_device, check_output_file
from pde_lib.generation import GenerationParams, generate_dataset
from pde_lib.generation.generate import check_memory


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
    add_overwrite_argument(p)
    p.add_argument("--no-progress", action="store_true")


def run(args) -> int:
    params = GenerationParams(
        pdes=[s.strip() for s in args.pdes.split(",") if s.strip()], split=args.split,
        distribution=args.distribution, samples_per_pde=args.samples_per_pde,
        resolution=args.resolution, seed=args.seed, chunk_size=args.chunk_size,
        refine=args.refine, cfl=args.cfl, dtype=args.dtype)
    check_memory(params, params.validate())  # every setting before any solve
    check_device(args.device)
    check_output_file(args.out, overwrite=args.overwrite)
    summary = generate_dataset(params, args.out, device=args.device, progress=not args.no_progress)
    print(summary.format())
    return 0
