"""K independent training runs of one backbone, trained as one ("stacked runs").

Runs that share the architecture, task, window, batch size, training-set size and optimiser
schedule are stepped together. Every parameter is stored once as a (K, ...) tensor; the forward
pass is ``torch.func.vmap`` over the run axis of ``functional_call`` on the backbone; the loss is
the sum over runs of each run's mean per-sample relative L2; one AdamW updates the stacked tensors.

AdamW is elementwise and run k's loss term depends only on slice k of each parameter, so slice k
follows the trajectory of a separate run (up to the rounding of batched kernels): the same
initialisation, batches, noise draws, lr schedule and updates. K small, launch-bound GPU steps
become one larger step. On a CPU, where a step is compute-bound, it does not pay
(``benchmarks/train_throughput.py`` measures both).

``StackedStepper`` plugs K stacked runs into the engine's driver: the one step loop of
``engine.stepper`` with an objective returning the (K,) per-run losses, plus the per-run views
the driver needs (finite weights per run, run k's weights into its own module, run k's slice of
the optimiser state for its checkpoint).

Shapes: x (K, B, T_in, N, N), grid (K, 2, N, N), coeffs (K, B, C) -> (K, B, 1, N, N)."""

from __future__ import annotations

import copy
from typing import Any, Sequence

import torch
from torch.func import functional_call, stack_module_state, vmap

from pde_lib.engine.stepper import BatchSource, Objective, Stepper
from pde_lib.errors import ConfigError
from pde_lib.utils.divergence import finite_weights


class StackedModel:
    """K copies of one backbone architecture (same class and config) with stacked weights.

    ``params`` / ``buffers``: name -> (K, ...) tensor, in the backbone's ``named_parameters``
    order (so optimiser state index i is the same parameter as in a single run's optimiser)."""

    def __init__(self, members: Sequence[torch.nn.Module]):
        members = list(members)
        if not members:
            raise ConfigError("StackedModel needs at least one member model")
        first = members[0]
        for i, m in enumerate(members[1:], 1):
            if type(m) is not type(first) or dict(m.config) != dict(first.config):
                raise ConfigError(f"stacked runs need one architecture: member {i} is {type(m).__name__} "
                                  f"{dict(m.config)}, member 0 is {type(first).__name__} {dict(first.config)}")
        self.name, self.config, self.k = first.name, dict(first.config), len(members)
        self.state_keys = list(first.state_dict().keys())
        # fresh (K, ...) tensors; parameters come back as leaves that require grad
        self.params, self.buffers = stack_module_state(members)
        self._template = copy.deepcopy(first).to("meta")
        self._forward = vmap(self._call_one)

    def _call_one(self, params, buffers, x, grid, coeffs):
        return functional_call(self._template, (params, buffers), (x, grid, coeffs))

    def __call__(self, x: torch.Tensor, grid: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
        return self._forward(self.params, self.buffers, x, grid, coeffs)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def member_state_dict(self, k: int) -> dict[str, torch.Tensor]:
        """Run k's ``state_dict`` (detached copies), loadable into a single backbone."""
        tensors = {**self.params, **self.buffers}
        return {n: tensors[n][k].detach().clone() for n in self.state_keys}

    @torch.no_grad()
    def load_member_state_dict(self, k: int, state: dict[str, torch.Tensor]) -> None:
        """Copy a single backbone's ``state_dict`` into slice k (keys must match exactly)."""
        if set(state) != set(self.state_keys):
            raise ConfigError(f"state dict for run {k} does not fit {self.name!r}: keys differ by "
                              f"{sorted(set(state) ^ set(self.state_keys))}")
        tensors = {**self.params, **self.buffers}
        for n in self.state_keys:
            tensors[n][k].copy_(state[n])

    def to_member(self, k: int, module: torch.nn.Module) -> torch.nn.Module:
        """Load run k's weights into ``module`` (a backbone of the same architecture)."""
        module.load_state_dict(self.member_state_dict(k))
        return module


# ------------------------------------------------------------------------------ optimiser state
def _plain_group(group: dict) -> dict:
    """A param group as a single, non-graphed run stores it: float lr, capturable off."""
    out = dict(group)
    for key in ("lr", "initial_lr"):
        if isinstance(out.get(key), torch.Tensor):
            out[key] = float(out[key])
    if "capturable" in out:
        out["capturable"] = False
    return out


def member_optimizer_state(state: dict, k: int) -> dict:
    """Run k's slice of a stacked optimiser ``state_dict``, in a single run's format: every
    per-element buffer indexed at k, scalar entries (AdamW's ``step``) copied."""
    def slice_k(v):
        if not isinstance(v, torch.Tensor):
            return v
        return v[k].clone() if v.dim() > 0 else v.clone()

    per_param = {i: {name: slice_k(v) for name, v in s.items()} for i, s in state["state"].items()}
    return {"state": per_param, "param_groups": [_plain_group(g) for g in state["param_groups"]]}


def stack_optimizer_states(states: Sequence[dict]) -> dict:
    """Inverse of :func:`member_optimizer_state`: single runs' AdamW states (all at the same step)
    -> one stacked state. Scalar entries must agree across runs."""
    first = states[0]
    stacked = {}
    for i, s in first["state"].items():
        entry = {}
        for name, v in s.items():
            vals = [st["state"][i][name] for st in states]
            if isinstance(v, torch.Tensor) and v.dim() > 0:
                entry[name] = torch.stack(vals)
            else:
                if any(float(x) != float(v) for x in vals):
                    raise ConfigError(f"cannot stack optimiser states: {name!r} differs between runs "
                                      f"({[float(x) for x in vals]})")
                entry[name] = v
        stacked[i] = entry
    return {"state": stacked, "param_groups": [dict(g) for g in first["param_groups"]]}


def restore_group_options(optimizer: torch.optim.Optimizer, options: list[dict[str, Any]]) -> None:
    """After ``load_state_dict`` (which adopts the saved groups' options), put back the live
    optimiser's engine options (capturable, tensor lr) keeping the saved lr value."""
    for group, opts in zip(optimizer.param_groups, options):
        for key in ("capturable", "fused", "foreach"):
            if key in opts:
                group[key] = opts[key]
        for key in ("lr", "initial_lr"):
            if isinstance(opts.get(key), torch.Tensor):
                value = float(group[key])
                group[key] = opts[key]
                group[key].fill_(value)


# ------------------------------------------------------------------------------ the stepper
class StackedStepper(Stepper):
    """The engine's step loop for the K runs of ``model``: ``objective(*batch)`` returns the (K,)
    per-run losses; each epoch's scores are one dict per run. ``cuda_graphs`` (on CUDA) replays
    each step as one CUDA graph, so the batch must be tensors gathered inside the objective."""

    def __init__(self, model: StackedModel, objective: Objective, batches: BatchSource,
                 optimizer: torch.optim.Optimizer, scheduler, cuda_graphs: bool = False):
        super().__init__(objective, batches, optimizer, scheduler, modules=(), cuda_graphs=cuda_graphs)
        self.model, self.runs = model, model.k
        self._optimizer_state: dict | None = None

    def epoch(self, epoch: int) -> list[dict[str, float]]:
        self._optimizer_state = None
        return super().epoch(epoch)

    def finite_weights(self) -> list[bool]:
        return finite_weights(self.model.parameters(), runs=self.runs)

    def export(self, k: int, module: torch.nn.Module) -> None:
        self.model.to_member(k, module)

    def optimizer_state(self, k: int) -> dict:
        """Run k's slice of the optimiser state, in a single run's format."""
        if self._optimizer_state is None:  # once per epoch, shared by the K checkpoints
            self._optimizer_state = self.optimizer.state_dict()
        return member_optimizer_state(self._optimizer_state, k)
