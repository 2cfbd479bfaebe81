"""The grids a resolution schedule chooses from, and the tail criterion on them.

Two families share one interface (``resolution.solve_scheduled`` drives either):
- ``SquareGrids``: square n^2 grids of the square lattice, n from the ladder; a key is n.
- ``LatticeGrids``: (n1, n2) grids of a sheared lattice (``pde_lib.pdes.lattice``), each axis
  from the ladder; a key is (n1, n2). The criterion is the same relative L2 norm of the modes a
  grid half as fine would drop, now outside the box |m'_1| < band f n1, m'_2 < band f n2 (f the
  kept fraction), and among the grids whose tail holds the cheapest is taken, cost
  n1 n2 max(n1, n2) (points times steps)."""

from __future__ import annotations

import math

import torch

from pde_lib.pdes.lattice import Lattice
from pde_lib.pdes.spectral import point_sample
from pde_lib.pdes.spectral_grid import SpectralGrid
from pde_lib.pdes.spectral_tail import kept_modes, resample, resample_grid, ring_power


def _next(ladder: list[int], n: int) -> int:
    finer = [m for m in ladder if m > n]
    return finer[0] if finer else ladder[-1]


def _band(fraction: float, n: int) -> int:
    """Number of kept integer modes per sign: |m| < fraction * n."""
    return math.ceil(fraction * n - 1e-9)


def _parseval_columns(k2: int, dtype, device) -> torch.Tensor:
    """Weights (k2,) of rfft2 columns m_2 = 0 .. k2 - 1: column 0 once, the others twice."""
    weight = torch.full((k2,), 2.0, dtype=dtype, device=device)
    weight[0] = 1.0
    return weight


def _grid_cost(n1: int, n2: int) -> int:
    """A grid's cost per unit time: points times steps, n1 n2 max(n1, n2)."""
    return n1 * n2 * max(n1, n2)


class SquareGrids:
    """Square grids of the square lattice, built once per solve, and the tail criterion on them."""

    record_dims: tuple[int, ...] = ()
    #: from this grid size on, a sub-batch is stepped in sub-batches by step count (resolution)
    split_steps_from: float = 160

    def __init__(self, device, dtype: torch.dtype, band: float, fraction: float,
                 ladder: list[int] | None = None):
        self.device, self.dtype, self.band, self.fraction = device, dtype, band, fraction
        self.ladder = list(ladder or [])
        self._grids: dict[int, SpectralGrid] = {}

    def grid(self, n: int) -> SpectralGrid:
        if n not in self._grids:
            self._grids[n] = SpectralGrid.build(n, self.device, self.dtype)
        return self._grids[n]

    def kept(self, n: int) -> torch.Tensor:
        return kept_modes(n, self.fraction, self.device)

    def _inner(self, m: int) -> int:
        """The modes a grid of size m keeps below its tail band: |m| < band * fraction * m."""
        return math.ceil(self.band * self.fraction * m - 1e-9)

    def tail(self, vh: torch.Tensor, n: int, m: int) -> torch.Tensor:
        """tau_m (B,) float64 of states vh on grid n: the ring of modes band * fraction * m <=
        |k|_inf < fraction * n over the whole kept band (``ring_power``)."""
        top = _band(self.fraction, n)  # kept modes: |k|_inf < fraction * n
        whole = ring_power(vh, 0, top)
        part = ring_power(vh, self._inner(m), top)
        return (part / whole.clamp_min(1e-300)).sqrt()

    def choose(self, vh: torch.Tensor, n: int, ladder: list[int], limit: float,
               lowest: int, highest: int) -> torch.Tensor:
        """Each state's coarsest ladder grid in [lowest, highest] whose tail (seen from grid n)
        is <= limit; ``highest`` where none is. (B,) int64."""
        choice = torch.full((vh.shape[0],), highest, dtype=torch.int64, device=vh.device)
        for m in reversed([m for m in ladder if lowest <= m < highest]):
            choice = torch.where(self.tail(vh, n, m) <= limit, m, choice)
        return choice

    # ---- the schedule's interface ---------------------------------------------------------
    def enter(self, vh0: torch.Tensor, n0: int):
        """The initial rfft2 states on the square n0^2 grid -> (key, states) of this family."""
        return n0, vh0

    def start_choice(self, vh, key: int, limit: float) -> torch.Tensor:
        """An interval's grid: the coarsest whose tail holds, at most one ladder step finer."""
        return self.choose(vh, key, self.ladder, limit, self.ladder[0], _next(self.ladder, key))

    def reject_choice(self, vh, key: int, limit: float) -> torch.Tensor:
        """After a rejected interval on ``key``: a finer grid, from the end state's tail."""
        return self.choose(vh, key, self.ladder, limit, _next(self.ladder, key), self.ladder[-1])

    def is_finest(self, key: int) -> bool:
        return key >= self.ladder[-1]

    def move(self, vh, key_from: int, key_to: int) -> torch.Tensor:
        return resample(vh, key_from, key_to, self.fraction)

    def monitor(self, vh, key: int) -> torch.Tensor:
        return self.tail(vh, key, key)

    def sample(self, vh, key: int, n_out: int) -> torch.Tensor:
        return point_sample(self.grid(key).to_physical(vh), n_out)

    def split(self, choice: torch.Tensor):
        """[(key, rows)] of a choice (B,)."""
        return [(int(m), torch.nonzero(choice == m).flatten()) for m in torch.unique(choice).tolist()]

    @staticmethod
    def order(key: int):
        return key

    @staticmethod
    def record_value(key: int):
        return key

    @staticmethod
    def largest(key: int) -> int:
        return key


class LatticeGrids(SquareGrids):
    """(n1, n2) grids of a sheared lattice, each axis from the ladder (see the module docstring)."""

    record_dims = (2,)
    #: never split by step count: the sub-batches by (n1, n2) are small already, and lone samples
    #: cost two (their transforms run as a pair, ``spectral.irfft2``); masked steps cost less
    split_steps_from = math.inf

    def __init__(self, lattice: Lattice, device, dtype: torch.dtype, band: float, fraction: float,
                 ladder: list[int]):
        super().__init__(device, dtype, band, fraction, ladder)
        self.lattice = lattice
        self._pairs = torch.tensor([(a, b) for a in self.ladder for b in self.ladder],
                                   dtype=torch.int64, device=device)  # (P, 2)
        self._pair_inner = torch.tensor([(self._inner(a), self._inner(b)) for a, b in self._pairs.tolist()],
                                        dtype=torch.int64, device=device)  # (P, 2) inner box
        self._pair_cost = torch.tensor([_grid_cost(a, b) for a, b in self._pairs.tolist()],
                                       dtype=torch.float64, device=device)
        self._layouts: dict = {}

    def grid(self, key) -> SpectralGrid:
        key = tuple(key)
        if key not in self._grids:
            self._grids[key] = SpectralGrid.build_on(self.lattice, key, self.device, self.dtype)
        return self._grids[key]

    def _monitor_layout(self, key):
        """Grid ``key``'s kept band (k1, k2), inner box (a, c) and Parseval column weights (k2,)."""
        if key not in self._layouts:
            k = (_band(self.fraction, key[0]), _band(self.fraction, key[1]))
            inner = (min(self._inner(key[0]), k[0]), min(self._inner(key[1]), k[1]))
            self._layouts[key] = (k, inner, _parseval_columns(k[1], self.dtype, self.device))
        return self._layouts[key]

    def monitor(self, vh, key) -> torch.Tensor:
        """tau of states vh on their own grid ``key`` (B,), evaluated after every step: Parseval
        row powers over the kept columns (each row reduced on its own, so the value does not
        depend on the batch) in the solve's precision; tau^2 = (rows |m'_1| >= a, plus the
        columns m'_2 >= c of the rows below a) / (all kept rows), summed in float64 (the part
        adds only the modes it counts, so a small tail keeps its relative accuracy)."""
        (k1, k2), (a, c), weight = self._monitor_layout(key)
        n1 = vh.shape[-2]
        power = torch.view_as_real(vh[..., :k2]).square().sum(-1) * weight  # (B, n1, k2)
        rows = power.sum(-1).double()  # (B, n1)
        whole = rows[:, :k1].sum(-1) + rows[:, n1 - k1 + 1:].sum(-1)
        part = rows[:, a:k1].sum(-1) + rows[:, n1 - k1 + 1:n1 - max(a, 1) + 1].sum(-1)
        if a and c < k2:
            low = torch.cat([power[:, :a, c:], power[:, n1 - a + 1:, c:]], dim=1)
            part = part + low.sum(-1).double().sum(-1)
        return (part / whole.clamp_min(1e-300)).sqrt()

    def pair_tails(self, vh: torch.Tensor, key) -> torch.Tensor:
        """(B, P) tails, seen from grid ``key``, of every ladder pair (``_pairs``): the folded power
        table Q[|m'_1|, m'_2] (Parseval weights, float64), summed over each pair's inner box by
        cumulative sums, subtracted from the whole (float64: a tail of 1e-3 keeps 10 digits)."""
        k1, k2 = _band(self.fraction, key[0]), _band(self.fraction, key[1])
        n1 = vh.shape[-2]
        power = torch.view_as_real(vh[:, :, :k2]).double().square().sum(-1)  # (B, n1, k2)
        power = power * _parseval_columns(k2, torch.float64, vh.device)
        folded = power[:, :k1].clone()
        if k1 > 1:
            folded[:, 1:] += power[:, n1 - k1 + 1:].flip(1)
        inside = folded.cumsum(1).cumsum(2)  # inside[a, c]: |m'_1| <= a, m'_2 <= c
        whole = inside[:, -1, -1]
        a, c = self._pair_inner[:, 0].clamp(0, k1), self._pair_inner[:, 1].clamp(0, k2)
        flat = inside.flatten(1)
        picked = flat[:, ((a - 1).clamp_min(0) * k2 + (c - 1).clamp_min(0))]
        picked = torch.where(((a > 0) & (c > 0))[None, :], picked, torch.zeros_like(picked))
        return ((whole[:, None] - picked).clamp_min(0) / whole.clamp_min(1e-300)[:, None]).sqrt()

    def _choose_pairs(self, vh, key, limit: float, low, high, exclude=None) -> torch.Tensor:
        """(B, 2): each state's cheapest ladder pair within [low, high] (per axis) whose tail is
        <= limit; ``high`` where none is."""
        pairs = self._pairs
        allowed = ((pairs >= torch.tensor(low, device=pairs.device))
                   & (pairs <= torch.tensor(high, device=pairs.device))).all(1)
        if exclude is not None:
            allowed &= ~(pairs == torch.tensor(exclude, device=pairs.device)).all(1)
        cost = self._pair_cost
        ok = (self.pair_tails(vh, key) <= limit) & allowed[None, :]
        cost = torch.where(ok, cost[None, :], torch.full_like(cost[None, :], math.inf))
        best = cost.argmin(1)
        fallback = torch.tensor(high, dtype=torch.int64, device=vh.device).expand(vh.shape[0], 2)
        return torch.where(torch.isfinite(cost.min(1).values)[:, None], pairs[best], fallback)

    # ---- the schedule's interface ---------------------------------------------------------
    def enter(self, vh0: torch.Tensor, n0: int):
        key = (n0, n0)
        return key, self.lattice.from_square(vh0, key, _band(self.fraction, n0))

    def start_choice(self, vh, key, limit: float) -> torch.Tensor:
        top = (_next(self.ladder, key[0]), _next(self.ladder, key[1]))
        return self._choose_pairs(vh, key, limit, (self.ladder[0],) * 2, top)

    def reject_choice(self, vh, key, limit: float) -> torch.Tensor:
        finest = (self.ladder[-1],) * 2
        return self._choose_pairs(vh, key, limit, tuple(key), finest, exclude=tuple(key))

    def is_finest(self, key) -> bool:
        return min(key) >= self.ladder[-1]

    def move(self, vh, key_from, key_to) -> torch.Tensor:
        return resample_grid(vh, tuple(key_from), tuple(key_to), self.fraction)

    def sample(self, vh, key, n_out: int) -> torch.Tensor:
        return self.lattice.point_sample(self.grid(key).to_physical(vh), n_out)

    def split(self, choice: torch.Tensor):
        keys = torch.unique(choice, dim=0).tolist()
        return [((int(a), int(b)), torch.nonzero((choice == torch.tensor([a, b], device=choice.device)).all(1)).flatten())
                for a, b in keys]

    @staticmethod
    def order(key):
        return (_grid_cost(*key), key)

    @staticmethod
    def record_value(key):
        return torch.tensor(key)

    @staticmethod
    def largest(key) -> int:
        return max(key)
