"""Where a laptop-size pretraining step goes: the pretext head against the rest, per strategy.

For each strategy (FNO2D or U-Net at the laptop study's sizes, batch 16, one thread) it times the
whole optimiser step of ``pde_lib.pretraining`` (pretext batch, forward, loss, backward, AdamW) and,
alone, the head's forward and backward on the head's own input (captured from a real step, with
its gradient computed as in the step, since the backbone below needs it). It prints the head's
share of the step, the head's counted GFLOP/s (``torch.utils.flop_counter``) beside this CPU's
one-thread matrix-product peak, and the step time a run would need to be 2x faster than the old
code's run of ``--old-seconds`` (a JSON of ``laptop_training_speed.py``), with the head at its
measured time. The heads' 3x3 convolutions are the same in old and new code, so their time bounds
what any backbone speed-up can give (Amdahl).

    python benchmarks/pretrain_head_share.py [--model fno2d] [--strategies all] [--data FILE]
        [--old-json laptop_training_speed.json] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from laptop_training_speed import MODELS, STRATEGIES, _counted, make_data, peak_gflops  # noqa: E402


def timed(fn, rounds: int, inner: int = 10) -> float:
    """Median over ``rounds`` of the mean seconds of ``inner`` calls (after 3 warm-up calls)."""
    for _ in range(3):
        fn()
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        out.append((time.perf_counter() - t) / inner)
    return statistics.median(out)


def parts(model: str, strategy: str, data: str, rounds: int) -> dict | None:
    """Seconds per whole step and per head forward + backward; head FLOPs; steps per epoch."""
    from pde_lib.pretraining.config import PretrainConfig
    from pde_lib.pretraining.loop import PretrainRun

    cfg = PretrainConfig(strategy=strategy, model=model, model_kwargs=MODELS[model], data=data, epochs=1,
                         batch_size=16, progress=False)
    cfg.validate()
    run = PretrainRun(cfg)
    if run.stepper is None:
        return None
    epoch = {"n": 0, "it": iter(run.batches(0))}

    def next_batch():  # a fresh pretext batch per step, as in a run
        try:
            return next(epoch["it"])[0]
        except StopIteration:
            epoch["n"] += 1
            epoch["it"] = iter(run.batches(epoch["n"]))
            return next(epoch["it"])[0]

    captured = {}
    def keep_input(module, args):  # returns None: the head's input is left as it is
        captured.setdefault("x", args)

    hook = run.head.register_forward_pre_hook(keep_input)

    def step():
        run.optimizer.zero_grad(set_to_none=True)
        loss, _ = run.objective(*next_batch())
        loss.backward()
        run.optimizer.step()

    whole = timed(step, rounds)
    hook.remove()
    if "x" not in captured:  # no separate head (transfer: the backbone's own projection)
        return {"step_s": whole, "head_s": 0.0, "head_flops": 0, "steps_per_epoch": len(run.slices)}
    head_in = [a.detach().requires_grad_() if torch.is_tensor(a) and a.is_floating_point() else a
               for a in captured["x"]]

    def head_step():
        out = run.head(*head_in)
        out = out[0] if isinstance(out, (tuple, list)) else out
        out.float().square().mean().backward()

    return {"step_s": whole, "head_s": timed(head_step, rounds), "head_flops": _counted(head_step),
            "steps_per_epoch": len(run.slices)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="fno2d", choices=sorted(MODELS))
    ap.add_argument("--strategies", default="all")
    ap.add_argument("--data", default=None, help="a pretraining file (default: generated as laptop_training_speed.py)")
    ap.add_argument("--old-json", default=None, help="laptop_training_speed.py --json output (old run times)")
    ap.add_argument("--epochs", type=int, default=15, help="the benchmark's pretraining epochs")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    strategies = STRATEGIES if args.strategies == "all" else tuple(args.strategies.split(","))
    old = {}
    if args.old_json:
        for row in json.loads(Path(args.old_json).read_text())["rows"]:
            old[row["name"]] = row
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or make_data(Path(tmp), 192)["pretrain"]
        peak = peak_gflops()
        print(f"{args.model}, batch 16, one thread; peak {peak:.0f} GFLOP/s (float32 matmul)")
        print("| strategy | step ms | head f+b ms | head share | head GFLOP/s | step ms for 2x |")
        print("|---|---:|---:|---:|---:|---:|")
        for strategy in strategies:
            p = parts(args.model, strategy, data, args.rounds)
            if p is None:
                continue
            target = "-"
            row = old.get(f"pretrain {args.model} {strategy}")
            if row:
                fixed = old.get(f"pretrain {args.model} none", {}).get("new_wall", 0.0)
                steps = p["steps_per_epoch"] * args.epochs
                target = f"{(row['old_wall'] / 2 - fixed) / steps * 1e3:.1f}"
            gf = f"{p['head_flops'] / p['head_s'] / 1e9:.0f}" if p["head_s"] else "-"
            print(f"| {strategy} | {p['step_s'] * 1e3:.1f} | {p['head_s'] * 1e3:.1f} | "
                  f"{p['head_s'] / p['step_s']:.0%} | {gf} | {target} |",
                  flush=True)


if __name__ == "__main__":
    main()
