"""The hot loop of the spectral solvers, made cheaper without changing a bit: IFRK4 with its
factors built once per interval, the spectral-tail criterion summed over slices, and the heap
setting that keeps large buffers out of mmap."""

import subprocess
import sys
import textwrap

import pytest
import torch

from pde_lib.pdes.integrators import IFRK4Factors, advance
from pde_lib.pdes.resolution import mode_numbers, ring_power
from pde_lib.pdes.schedule_grids import SquareGrids
from pde_lib.pdes.spectral import irfft2, rfft2


def textbook_ifrk4(vh, dt, lin, nonlinear):
    """Cox & Matthews' IFRK4 written out with real factors, as the solver had it."""
    e_full, e_half = torch.exp(lin * dt), torch.exp(lin * (0.5 * dt))
    k1 = nonlinear(vh)
    k2 = nonlinear(e_half * (vh + 0.5 * dt * k1))
    k3 = nonlinear(e_half * vh + 0.5 * dt * k2)
    k4 = nonlinear(e_full * vh + dt * e_half * k3)
    return e_full * vh + (dt / 6.0) * (e_full * k1 + 2.0 * e_half * (k2 + k3) + k4)


def burgers_like(n, b):
    gen = torch.Generator().manual_seed(n + b)
    vh = torch.fft.rfft2(torch.randn(b, n, n, generator=gen))
    kx = torch.fft.fftfreq(n, d=1.0 / n)[:, None]
    ky = torch.fft.rfftfreq(n, d=1.0 / n)[None, :]
    lin = -0.01 * (kx**2 + ky**2) * torch.linspace(0.5, 1.5, b)[:, None, None]
    op = -0.5j * (kx + ky)

    def nonlinear(v):
        u = irfft2(v, s=(n, n))
        return op * rfft2(u * u)

    return vh, lin, nonlinear


@pytest.mark.parametrize("n,b", [(16, 1), (32, 3), (48, 4)])
def test_ifrk4_factors_step_is_bitwise_the_textbook_step(n, b):
    vh, lin, nonlinear = burgers_like(n, b)
    dt = torch.linspace(1e-3, 4e-3, b).reshape(-1, 1, 1)
    ours = IFRK4Factors(torch.exp(lin * dt), torch.exp(lin * (0.5 * dt)), dt, vh).step(vh, nonlinear)
    assert torch.equal(ours, textbook_ifrk4(vh, dt, lin, nonlinear))
    # advance: per-sample step counts (a finished sample is held), against the textbook loop
    steps = torch.tensor([3.0] + [2.0] * (b - 1), dtype=torch.float64)
    end, _ = advance(vh, lin, nonlinear, 6e-3, steps)
    dt = (6e-3 / steps).to(torch.float32).reshape(-1, 1, 1)
    v = vh
    for step in range(3):
        v = torch.where(step < steps.reshape(-1, 1, 1), textbook_ifrk4(v, dt, lin, nonlinear), v)
    assert torch.equal(end, v)


def dense_tail(vh, n, m, band, fraction):
    """tau_m from the definition: Parseval-weighted power over the whole kept band (float64)."""
    mx, my = mode_numbers(n)
    parseval = torch.where((my == 0) | (my == n // 2), 1.0, 2.0)
    top = torch.maximum(mx, my)
    kept = (top < fraction * n) * parseval
    power = torch.view_as_real(vh.to(torch.complex128)).square().sum(-1)
    whole = (power * kept).sum(dim=(-2, -1))
    part = (power * kept * (top >= band * fraction * m)).sum(dim=(-2, -1))
    return (part / whole).sqrt()


@pytest.mark.parametrize("fraction,band", [(0.5, 0.5), (1.0 / 3.0, 0.5), (0.5, 0.65)])
@pytest.mark.parametrize("n", [32, 96, 160])
def test_sliced_tail_criterion_equals_its_definition(n, fraction, band):
    grids = SquareGrids("cpu", torch.float32, band, fraction)
    mx, my = mode_numbers(n)
    gen = torch.Generator().manual_seed(n)
    rough = torch.fft.rfft2(torch.randn(3, n, n, generator=gen))
    smooth = (rough.to(torch.complex128) * torch.exp(-60.0 / n * torch.maximum(mx, my))).to(torch.complex64)
    for vh in (rough, smooth):  # a smooth spectrum: tiny tails keep their relative accuracy
        for m in sorted({32, n // 2 if n // 2 % 32 == 0 else 32, n}):
            got, want = grids.tail(vh, n, m), dense_tail(vh, n, m, band, fraction)
            assert torch.allclose(got, want, rtol=1e-5, atol=0), (m, got, want)
    assert float(dense_tail(smooth, n, n, band, fraction).max()) < 1e-3  # the small case was tested


def test_ring_power_edges():
    vh = torch.fft.rfft2(torch.randn(2, 32, 32))
    assert torch.equal(ring_power(vh, 5, 5), torch.zeros(2, dtype=torch.float64))
    whole = ring_power(vh, 0, 16)
    assert torch.allclose(ring_power(vh, 0, 7) + ring_power(vh, 7, 16), whole, rtol=1e-6)
    with pytest.raises(ValueError, match="Nyquist"):
        ring_power(vh, 0, 17)


def test_retained_memory_avoids_page_faults_for_large_buffers():
    """With glibc's thresholds raised, a loop that allocates and frees 64 MiB tensors reuses the
    heap instead of faulting in fresh pages every time (in a child process: the setting is
    process-wide)."""
    script = textwrap.dedent("""
        import resource, sys, torch
        from pde_lib.utils.memory import retain_freed_memory
        if sys.argv[1] == "1" and not retain_freed_memory():
            print("unavailable"); sys.exit(0)
        x = torch.ones(16 << 20)
        for _ in range(10):  # warm-up: the heap grows to hold the buffers once
            y = x * 2.0
            del y
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            y = x * 2.0
            del y
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """)
    faults = {}
    for flag in ("0", "1"):
        out = subprocess.run([sys.executable, "-c", script, flag], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
        if out == "unavailable":
            pytest.skip("no glibc mallopt on this platform")
        faults[flag] = int(out)
    # 20 fresh 64 MiB buffers are ~330,000 faults of 4 KiB pages; kept in the heap, none. With
    # transparent huge pages always on, fresh buffers fault in 2 MiB pages and there is little
    # to save: nothing to compare then.
    if faults["0"] < 10_000:
        pytest.skip(f"fresh buffers fault little on this machine (huge pages?): {faults}")
    assert faults["0"] > 100_000, faults
    assert faults["1"] < faults["0"] / 5, faults
