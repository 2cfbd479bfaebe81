"""Augmentations: every valid (augmentation, PDE) pair keeps the PDE satisfied (spectral residual
and a fresh re-solve), invalid pairs visibly break it, and augment_dataset / the CLI keep
originals, seeds, coefficients and extra keys consistent and reproducible."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace

import h5py
import pytest
import torch

from pde_lib.augmentations import (AUGMENTATIONS, INPUT_NOISE_KEY, add_input_noise,
                                   augment_copies, augment_dataset, get_augmentation)
from pde_lib.augmentations.base import moving_shift, roll_cells, shift_fields
from pde_lib.augmentations.diagnostics import (demo_pairs, invalid_examples, invalid_table,
                                               pde_residual, plot_side_by_side, resolve,
                                               resolve_error, residual_table)
from pde_lib.data import PDE_NAMES, load_dataset
from pde_lib.generation import GenerationParams, generate_dataset
from pde_lib.errors import ConfigError
from pde_lib.pdes.spectral import fourier_shift, grid_coordinates

torch.set_num_threads(1)

#: re-solve tolerance on the last frame (relative L2): exact solutions vs Burgers' stored frames
RESOLVE_TOL = {"heat": 1e-3, "advection": 1e-3, "burgers": 1e-2}
VALID = [(name, pde) for name in ("shift", "scale", "galilean", "noise")
         for pde in ("heat", "advection", "burgers") if pde in get_augmentation(name).valid_pdes]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("aug")
    generate_dataset(GenerationParams(pdes=["heat", "advection", "burgers"], split="train",
                                      distribution="id", samples_per_pde=4, seed=0),
                     d / "hab.h5", progress=False)
    generate_dataset(GenerationParams(pdes=["navier_stokes"], split="train", distribution="id",
                                      samples_per_pde=2, seed=0, refine=1),
                     d / "ns.h5", progress=False)
    return d


@pytest.fixture(scope="session")
def hab(data_dir):
    return load_dataset(data_dir / "hab.h5")


@pytest.fixture(scope="session")
def ns(data_dir):
    return load_dataset(data_dir / "ns.h5")


def of(ds, pde):
    return ds.select(ds.pde_index == PDE_NAMES.index(pde))


def copies_of(ds, names, seed=0, **kw):
    """Augmented copies only. The fixtures hold ID data, for which re-solving Galilean Burgers
    copies on a 4x grid meets the accuracy bar (the default, 8, is sized for OOD and is slower)."""
    kw.setdefault("burgers_refine", 4)
    return augment_copies(ds, names, 1.0, torch.Generator().manual_seed(seed), **kw)[0]


# ---- the registry and the interface ---------------------------------------------------------
def test_registry_and_interface():
    assert AUGMENTATIONS.names() == ["copy", "galilean", "noise", "scale", "shift"]
    for name in AUGMENTATIONS:
        aug = get_augmentation(name)
        assert aug.name == name
        if aug.strength_name is None:  # the copy control has nothing to tune
            assert aug.parameters == {} and aug.strength_default is None
        else:
            assert aug.strength_name in aug.parameters
            assert aug.parameters[aug.strength_name] == aug.strength_default
        assert aug.valid_pdes <= set(PDE_NAMES)
    assert get_augmentation("scale").valid_pdes == {"heat", "advection", "burgers"}
    assert get_augmentation("galilean").valid_pdes == {"advection", "burgers"}
    assert "navier_stokes" in get_augmentation("shift").valid_pdes


def test_errors_are_clear(hab):
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ConfigError, match="valid augmentation names: copy, galilean, noise, scale, shift"):
        augment_dataset(hab, ["rotate"], 0.5, g)
    with pytest.raises(ConfigError, match="unknown augmentation parameter.*max_sheft"):
        augment_dataset(hab, ["shift"], 0.5, g, max_sheft=0.1)
    with pytest.raises(ConfigError, match="max_scale must be a number >= 0"):
        augment_dataset(hab, ["scale"], 0.5, g, max_scale=-1.0)
    with pytest.raises(ConfigError, match="ratio must be a number in \\[0, 1\\]"):
        augment_dataset(hab, ["shift"], 1.5, g)
    with pytest.raises(ConfigError, match="more than once"):
        augment_dataset(hab, ["shift", "shift"], 0.5, g)
    h = of(hab, "heat")
    with pytest.raises(ConfigError, match="'galilean' is not a symmetry of \\['heat'\\]"):
        get_augmentation("galilean").apply(h.u, h.coeffs, h.pde_index, h.t, g)


# ---- augment_dataset semantics ---------------------------------------------------------------
def test_originals_kept_and_copies_follow_bernoulli(hab):
    out = augment_dataset(hab, ["shift"], 0.5, torch.Generator().manual_seed(3))
    n = len(hab)
    assert torch.equal(out.u[:n], hab.u) and torch.equal(out.coeffs[:n], hab.coeffs)
    assert torch.equal(out.seed[:n], hab.seed)
    draw = torch.rand(n, generator=torch.Generator().manual_seed(3), dtype=torch.float64) < 0.5
    assert len(out) == n + int(draw.sum())
    assert torch.equal(out.seed[n:], hab.seed[draw])  # copies keep their original's seed
    assert torch.equal(out.pde_index[n:], hab.pde_index[draw])
    assert len(augment_dataset(hab, ["shift"], 0.0, torch.Generator())) == n
    assert len(augment_dataset(hab, ["shift"], 1.0, torch.Generator())) == 2 * n
    assert len(augment_dataset(hab, [], 1.0, torch.Generator())) == n


def test_copy_control_adds_the_same_samples_unchanged_as_an_augmentation_would(hab, ns):
    """The step-matched control: same count and choice of copied samples as ``noise`` / ``shift``
    with the same generator seed and ratio, each copy equal to its original, every PDE valid."""
    n = len(hab)
    copied = augment_dataset(hab, ["copy"], 0.5, torch.Generator().manual_seed(3))
    for name in ("noise", "shift"):  # valid for every trajectory PDE: one copy per success
        other = augment_dataset(hab, [name], 0.5, torch.Generator().manual_seed(3))
        assert len(copied) == len(other) > n
        assert torch.equal(copied.seed, other.seed) and torch.equal(copied.pde_index, other.pde_index)
    draw = torch.rand(n, generator=torch.Generator().manual_seed(3), dtype=torch.float64) < 0.5
    assert torch.equal(copied.u[n:], hab.u[draw]) and torch.equal(copied.coeffs[n:], hab.coeffs[draw])
    assert not bool(copied.extra[INPUT_NOISE_KEY].any())
    ns_copy = augment_dataset(ns, ["copy"], 1.0, torch.Generator())
    assert len(ns_copy) == 2 * len(ns) and torch.equal(ns_copy.u[len(ns):], ns.u)
    with pytest.raises(ConfigError, match="unknown parameter"):
        get_augmentation("copy").sample(hab.pde_index, torch.Generator(), noise_level=0.1)


def test_same_seed_same_batch_different_seed_different(hab):
    a = augment_dataset(hab, ["shift", "scale", "noise"], 1.0, torch.Generator().manual_seed(0))
    b = augment_dataset(hab, ["shift", "scale", "noise"], 1.0, torch.Generator().manual_seed(0))
    c = augment_dataset(hab, ["shift", "scale", "noise"], 1.0, torch.Generator().manual_seed(1))
    assert torch.equal(a.u, b.u) and torch.equal(a.coeffs, b.coeffs)
    assert torch.equal(a.extra[INPUT_NOISE_KEY], b.extra[INPUT_NOISE_KEY])
    assert not torch.equal(a.u, c.u)
    # the result does not depend on how the work is chunked
    d = augment_dataset(hab, ["shift", "scale", "noise"], 1.0, torch.Generator().manual_seed(0),
                        chunk_size=5)
    assert torch.equal(a.u, d.u) and torch.equal(a.coeffs, d.coeffs)


def test_extra_keys_consistent_and_select_works(hab, ns):
    for ds, names in ((hab, ["scale"]), (ns, ["shift", "noise"])):
        out = augment_dataset(ds, names, 1.0, torch.Generator().manual_seed(0))
        assert set(out.extra) == set(ds.extra) | {INPUT_NOISE_KEY}
        assert all(v.shape == (len(out),) for v in out.extra.values())
        sub = out.select(torch.tensor([0, len(out) - 1]))
        assert len(sub) == 2 and sub.extra[INPUT_NOISE_KEY].shape == (2,)
    out = augment_dataset(ns, ["shift"], 1.0, torch.Generator())
    assert torch.equal(out.extra["visc"][len(ns):], ns.extra["visc"])
    assert torch.equal(out.extra["amp"][len(ns):], ns.extra["amp"])


def test_invalid_pairs_warn_skip_or_raise(hab, ns):
    g = torch.Generator().manual_seed(0)
    with pytest.warns(UserWarning, match="'galilean' is not a symmetry of heat"):
        copies, src = augment_copies(hab, ["galilean"], 1.0, g, burgers_refine=0)
    assert "heat" not in copies.pde and len(copies) == 8  # heat samples get no copy
    with pytest.raises(ConfigError, match="'scale' is not a symmetry of navier_stokes"):
        augment_copies(ns, ["scale"], 1.0, g, strict=True)
    # composition: heat copies are shifted but not boosted
    with pytest.warns(UserWarning, match="galilean"):
        copies, src = augment_copies(hab, ["shift", "galilean"], 1.0, torch.Generator().manual_seed(0),
                                     burgers_refine=0)
    assert len(copies) == len(hab)
    heat = copies.pde_index == PDE_NAMES.index("heat")
    assert torch.equal(copies.coeffs[heat], hab.coeffs[src[heat]])
    assert not torch.equal(copies.u[heat], hab.u[src[heat]])


# ---- shifts ----------------------------------------------------------------------------------
def test_whole_cell_shift_is_torch_roll():
    u = torch.randn(3, 4, 16, 16)
    kx, ky = torch.tensor([0, 3, -5]), torch.tensor([1, -7, 16])
    out = roll_cells(u, kx, ky)
    for b in range(3):
        assert torch.equal(out[b], torch.roll(u[b], (int(kx[b]), int(ky[b])), dims=(-2, -1)))
    dx = 2.0 / 16
    whole = torch.ones(3, dtype=torch.bool)
    assert torch.equal(shift_fields(u, kx * dx + 0.3 * dx, ky * dx - 0.2 * dx, whole), out)


def test_subgrid_shift_exact_for_band_limited():
    n = 32
    x = grid_coordinates(n, dtype=torch.float64)
    phases = torch.tensor([[0.3, 1.1], [2.0, 0.7]], dtype=torch.float64)

    def field(sx, sy):  # two sine modes, analytically shifted: u(x - sx, y - sy)
        xs, ys = x[0] - sx, x[1] - sy
        return (0.4 * torch.sin(math.pi * xs + 2 * math.pi * ys + phases[0, 0])
                + 0.3 * torch.sin(3 * math.pi * xs - math.pi * ys + phases[0, 1]))

    sx, sy = torch.tensor([0.0123, -0.47]), torch.tensor([0.731, 0.05])
    u = torch.stack([field(0.0, 0.0)] * 2)[:, None].to(torch.float32)  # (2, 1, N, N)
    out = shift_fields(u, sx, sy)
    for b in range(2):
        ref = field(float(sx[b]), float(sy[b])).to(torch.float32)
        assert (out[b, 0] - ref).abs().max() < 1e-5
    back = shift_fields(out, -sx, -sy)
    assert (back - u).abs().max() < 1e-5
    # the per-frame (Galilean) shift agrees with fourier_shift frame by frame
    v = torch.randn(2, 3, 16, 16)
    mx, my = torch.rand(2, 3, dtype=torch.float64), torch.rand(2, 3, dtype=torch.float64)
    ref = fourier_shift(v.reshape(6, 16, 16), mx.reshape(-1), my.reshape(-1)).reshape(2, 3, 16, 16)
    assert torch.allclose(moving_shift(v, mx, my), ref, atol=1e-6)


def test_shift_rounds_burgers_and_ns_to_cells_and_keeps_ns_forcing(hab, ns):
    shift = get_augmentation("shift")
    g = torch.Generator().manual_seed(0)
    p = shift.sample(hab.pde_index, g)
    assert torch.equal(p["whole_cells"], hab.pde_index == PDE_NAMES.index("burgers"))
    p = shift.sample(hab.pde_index, g, subgrid=True)
    assert not p["whole_cells"].any()
    p = shift.sample(ns.pde_index, g)
    assert p["whole_cells"].all() and torch.equal(p["sy"], -p["sx"])
    # a default Burgers copy is an exact torch.roll of its original by some whole-cell amount
    b = of(hab, "burgers").take(1)
    copy = copies_of(b, ["shift"]).u[0]
    n = b.u.shape[-1]
    rolls = [(kx, ky) for kx in range(n) for ky in range(n)
             if torch.equal(torch.roll(b.u[0], (kx, ky), dims=(-2, -1)), copy)]
    assert len(rolls) == 1 and rolls[0] != (0, 0)


# ---- physics: valid pairs satisfy their PDE ------------------------------------------------
def residual_reference(orig, aug, name):
    """What the augmented residual is compared with: the original's, except for a Galilean boost,
    which changes the coefficients and with them the time-difference part of the residual at the
    stored dt = 0.0625 (so the reference is a true solution with the new coefficients)."""
    if name == "galilean":
        return replace(aug, u=resolve(aug).to(torch.float32))
    return orig


@pytest.mark.parametrize("name,pde", VALID)
def test_valid_pair_residual_and_resolve(hab, name, pde):
    orig = of(hab, pde)
    aug = copies_of(orig, [name])
    ref = residual_reference(orig, aug, name)
    r_aug, r_ref = pde_residual(aug), pde_residual(ref)
    if (name, pde) == ("galilean", "burgers"):
        # a sub-grid shift of stored Burgers frames misplaces their aliased near-Nyquist content:
        # the full residual grows (measured up to ~3.5x); on the resolved band it does not
        assert torch.all(r_aug <= 5.0 * r_ref), (r_aug, r_ref)
        r_aug, r_ref = pde_residual(aug, band=1 / 3), pde_residual(ref, band=1 / 3)
    assert torch.all(r_aug <= 2.0 * r_ref + 1e-5), (r_aug, r_ref)
    if name != "noise":
        assert not torch.equal(aug.u, orig.u)
    err = resolve_error(aug)
    assert torch.all(err <= RESOLVE_TOL[pde]), err


def test_subgrid_shift_of_burgers(hab):
    b = of(hab, "burgers")
    aug = copies_of(b, ["shift"], subgrid=True)
    assert torch.all(pde_residual(aug) <= 5.0 * pde_residual(b))
    assert torch.all(pde_residual(aug, band=1 / 3) <= 2.0 * pde_residual(b, band=1 / 3))
    err = resolve_error(aug)
    assert torch.all(err <= RESOLVE_TOL["burgers"]), err


def test_galilean_burgers_accuracy_fourier_vs_resolve(hab):
    """Documented accuracy: Fourier-shifting stored Burgers frames is good at the last frame but
    off by percents at the steepest frames (burgers_refine=0); re-solving the copies is exact."""
    b = of(hab, "burgers").take(2)

    def frame_errors(ds):
        ref = resolve(ds)
        u = ds.u.to(torch.float64)
        return (ref - u).flatten(2).norm(dim=2) / u.flatten(2).norm(dim=2)  # (B, T)

    fourier = frame_errors(copies_of(b, ["galilean"], burgers_refine=0))
    assert fourier[:, -1].max() < 1e-2 and fourier.max() > 1e-2
    exact = copies_of(b, ["galilean"], burgers_refine=4)
    assert frame_errors(exact).max() < 1e-4
    assert torch.all(pde_residual(exact) <= 2.0 * pde_residual(replace(exact, u=resolve(exact).float())))
    with pytest.raises(ConfigError, match="burgers_refine must be an integer"):
        copies_of(b, ["galilean"], burgers_refine=2.5)


def test_composition_residual(hab):
    aug = copies_of(hab, ["shift", "scale", "noise"])  # valid for all three PDEs, no coeff drift
    r0 = pde_residual(hab)
    assert torch.all(pde_residual(aug) <= 2.0 * r0 + 1e-5)


def test_navier_stokes_shift_residual(ns):
    aug = copies_of(ns, ["shift"], max_shift=1.0)
    assert not torch.equal(aug.u, ns.u)
    assert torch.all(pde_residual(aug) <= 1.01 * pde_residual(ns) + 1e-8)
    aug = copies_of(ns, ["shift"], subgrid=True)
    assert torch.all(pde_residual(aug) <= 2.0 * pde_residual(ns) + 1e-5)


def test_coefficient_updates(hab):
    g = torch.Generator().manual_seed(0)
    scale, gal = get_augmentation("scale"), get_augmentation("galilean")
    b = of(hab, "burgers")
    p = scale.sample(b.pde_index, g, max_scale=0.5)
    u, c, _ = scale.transform(b.u, b.coeffs, b.pde_index, b.t, p)
    lam = p["lam"].float()
    assert torch.allclose(u, b.u * lam[:, None, None, None], rtol=1e-6, atol=1e-7)
    assert torch.allclose(c[:, 3:], b.coeffs[:, 3:] / lam[:, None])
    assert torch.equal(c[:, :3], b.coeffs[:, :3])
    a = of(hab, "advection")
    p = gal.sample(a.pde_index, g)
    _, c, _ = gal.transform(a.u, a.coeffs, a.pde_index, a.t, p)
    assert torch.allclose(c[:, 1:3], a.coeffs[:, 1:3] + p["v"].float())
    # Burgers (Fourier-shift path): coefficients unchanged, every frame's mean rises by w
    p = gal.sample(b.pde_index, g, burgers_refine=0)
    u, c, _ = gal.transform(b.u, b.coeffs, b.pde_index, b.t, p)
    assert torch.equal(c, b.coeffs)
    dmean = (u - b.u).mean(dim=(-2, -1))
    assert torch.allclose(dmean, p["v"][:, :1].float().expand_as(dmean), atol=1e-5)
    assert torch.allclose(u[:, 0], b.u[:, 0] + p["v"][:, :1, None].float(), atol=1e-5)


# ---- the check has teeth: invalid transforms break the PDE --------------------------------
def test_invalid_transforms_fail_the_residual_check(hab, ns):
    for ds in (hab, ns):
        for label, (orig, bad) in invalid_examples(ds).items():
            ratio = pde_residual(bad) / pde_residual(orig)
            floor = 3.0 if label.startswith("burgers") else 10.0
            assert torch.all(ratio > floor), (label, ratio)
            band = pde_residual(bad, band=1 / 3) / pde_residual(orig, band=1 / 3)
            assert torch.all(band > floor), (label, band)
    # the same Burgers scaling with c -> c / lambda passes (ratio ~ 1)
    b = of(hab, "burgers")
    lam = torch.full((len(b),), 2.0, dtype=torch.float64)
    u, c, _ = get_augmentation("scale").transform(b.u, b.coeffs, b.pde_index, b.t, {"lam": lam})
    assert torch.all(pde_residual(replace(b, u=u, coeffs=c)) <= 1.01 * pde_residual(b))


def test_invalid_transform_fails_the_resolve_check(hab):
    b = of(hab, "burgers").take(2)
    bad = replace(b, u=b.u * 1.5)  # Burgers scaled without relabelling c
    assert torch.all(resolve_error(bad) > 10 * RESOLVE_TOL["burgers"])
    a = of(hab, "advection")
    v = torch.full((len(a), 2), 0.5, dtype=torch.float64)
    u, _, _ = get_augmentation("galilean").transform(a.u, a.coeffs, a.pde_index, a.t, {"v": v})
    assert torch.all(resolve_error(replace(a, u=u)) > 0.1)  # boosted, a not updated


# ---- noise ---------------------------------------------------------------------------------
def test_noise_is_input_only(hab):
    from pde_lib.engine.windowing import fixed_future

    out = augment_dataset(hab, ["noise"], 1.0, torch.Generator().manual_seed(0), noise_level=0.05)
    n = len(hab)
    assert torch.equal(out.u[n:], hab.u)  # the trajectory (and so the target) is unchanged
    std = out.extra[INPUT_NOISE_KEY]
    assert torch.all(std[:n] == 0)
    assert torch.allclose(std[n:], 0.05 * hab.u.flatten(1).std(dim=1), rtol=1e-5)
    x, y = fixed_future(out.u)
    y_before = y.clone()
    xn = add_input_noise(x, std, torch.Generator().manual_seed(1))
    assert torch.equal(y, y_before) and torch.equal(xn[:n], x[:n])
    rel = (xn[n:] - x[n:]).flatten(1).std(dim=1) / std[n:]
    assert torch.all((rel > 0.9) & (rel < 1.1))
    again = add_input_noise(x, std, torch.Generator().manual_seed(1))
    assert torch.equal(xn, again)


def test_noise_std_is_of_final_copy(hab):
    # noise is moved to the end of the composition: its std is of the scaled copy
    out = copies_of(hab, ["noise", "scale"])
    assert torch.allclose(out.extra[INPUT_NOISE_KEY], 1e-2 * out.u.flatten(1).std(dim=1), rtol=1e-5)


# ---- notebook helpers ----------------------------------------------------------------------
def test_diagnostic_tables_and_plot(hab, ns):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = residual_table(demo_pairs(ns), resolve_check=False)
    assert list(table["augmentation"]) == ["shift", "noise"]
    assert (table["ratio"] < 1.01).all()
    t2 = invalid_table(invalid_examples(ns))
    assert (t2["min_ratio"] > 10).all()
    pairs = demo_pairs(of(hab, "heat"), names=("scale",))
    fig = plot_side_by_side(*pairs[("scale", "heat")], frames=(0, 31))
    assert len(fig.axes) == 4
    plt.close(fig)


# ---- the CLI -----------------------------------------------------------------------------------
def run_cli(capsys, *args):
    from pde_lib.cli import main

    code = main(["augment", *args, "--no-progress"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_writes_copies_only(data_dir, hab, tmp_path, capsys):
    out = tmp_path / "gal.h5"
    code, stdout, stderr = run_cli(capsys, "--in", str(data_dir / "hab.h5"), "--out", str(out),
                                   "--augmentation", "galilean", "--seed", "0",
                                   "--max-velocity", "0.3")
    assert code == 0, stderr
    assert "8 augmented copies of 12 samples" in stdout
    assert "not a symmetry of heat" in stderr
    ds = load_dataset(out)
    with h5py.File(out, "r") as fh:
        src = torch.from_numpy(fh["train/source_index"][()])
        assert "augmentation" in fh.attrs and fh.attrs["distribution"] == "id"
    assert sorted(set(ds.pde)) == ["advection", "burgers"]
    with pytest.warns(UserWarning, match="heat"):
        ref = copies_of(hab, ["galilean"], seed=0, max_velocity=0.3, burgers_refine=8)
    assert torch.equal(ds.u, ref.u) and torch.allclose(ds.coeffs, ref.coeffs)
    assert torch.equal(ds.seed, hab.seed[src])
    assert list(tmp_path.iterdir()) == [out]  # nothing temporary left behind
    code, _, stderr = run_cli(capsys, "--in", str(data_dir / "hab.h5"), "--out",
                              str(tmp_path / "n.h5"), "--augmentation", "noise")
    assert code == 2 and "input-only" in stderr
    code, _, stderr = run_cli(capsys, "--in", str(data_dir / "hab.h5"), "--out",
                              str(tmp_path / "s.h5"), "--augmentation", "scale,galilean", "--strict")
    assert code == 2 and "not a symmetry of heat" in stderr
    assert list(tmp_path.iterdir()) == [out]


def test_cli_entry_point(data_dir, tmp_path):
    """``python -m pde_lib augment`` as a user runs it (one subprocess)."""
    r = subprocess.run([sys.executable, "-m", "pde_lib", "augment", "--in", str(data_dir / "ns.h5"),
                        "--out", str(tmp_path / "ns_shift.h5"), "--augmentation", "shift",
                        "--seed", "1", "--no-progress"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "2 augmented copies of 2 samples" in r.stdout
    ds = load_dataset(tmp_path / "ns_shift.h5")
    assert set(ds.extra) == {"visc", "amp"} and ds.pde == ["navier_stokes"] * 2
