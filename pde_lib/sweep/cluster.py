"""Where a sweep's cells run: a Dask client for an existing scheduler (optionally TLS with
mutual authentication, from the machine profile's ``security:`` block), a SLURM cluster, or a
LocalCluster on this machine, which listens on 127.0.0.1 only and serves no dashboard unless
asked. ``check_scheduler`` tells within seconds whether a scheduler answers at an address."""

from __future__ import annotations

import logging

from pde_lib.errors import ConfigError

#: seconds to wait for a scheduler (Dask's own default is 30)
CONNECT_TIMEOUT_S = 5
#: where the opt-in dashboard of a LocalCluster is served
DASHBOARD_ADDRESS = "127.0.0.1:8787"


def security(machine):
    """``distributed.security.Security`` from the profile's ``security:`` block (TLS files,
    ``require_encryption``), or None when the block is empty."""
    opts = dict(machine.get("security") or {})
    if not opts:
        return None
    from distributed.security import Security

    try:
        return Security(**opts)
    except (TypeError, ValueError, OSError) as exc:
        raise ConfigError(f"{machine.source}: security: {exc}; keys are distributed.security.Security's "
                          "(tls_ca_file, tls_client_cert, tls_client_key, require_encryption, ...)") from None


def check_scheduler(address: str, sec=None, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """ConfigError unless a Dask scheduler completes a handshake at ``address`` within
    ``timeout`` seconds (a malformed address, a closed port, a silent host or a peer that does
    not speak Dask's protocol all fail fast, with the reason)."""
    import asyncio
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect
    from distributed.comm.addressing import parse_address, parse_host_port

    if address.startswith("tls://") and sec is None:
        raise ConfigError(f"scheduler {address!r} uses TLS: give the machine profile a security: block "
                          "(tls_ca_file, tls_client_cert, tls_client_key; README 'Where a sweep runs')")
    kwargs = sec.get_connection_args("client") if sec is not None else {}

    def reachable():  # a closed port or an unknown host fails at once, not after the timeout
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            socket.create_connection(parse_host_port(location), timeout=timeout).close()

    async def handshake():
        comm = await connect(address, timeout=timeout, **kwargs)
        await comm.close()

    def probe():  # in its own thread: the caller may already run an event loop (Jupyter)
        reachable()
        asyncio.run(asyncio.wait_for(handshake(), timeout + 1))

    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(probe).result()
    except Exception as exc:  # noqa: BLE001 - any failure means: no usable scheduler there
        raise ConfigError(f"no Dask scheduler answers at {address!r} within {timeout:g} s "
                          f"({type(exc).__name__}: {_first_line(exc)}); start one "
                          "(dask scheduler) or drop --scheduler to run on a local cluster") from None


def connect_client(machine, scheduler: str | None, n_workers: int | None, dashboard: bool = False):
    """A Dask client: an existing scheduler, a SLURM cluster, or a LocalCluster of processes.

    The LocalCluster listens on 127.0.0.1 only, without authentication. Its scheduler always
    runs an HTTP server (Dask starts one even with ``dashboard_address=None``, on port 8787):
    without ``dashboard`` it gets a random loopback port and no routes, so nothing is served;
    with ``dashboard`` the dashboard is served at ``DASHBOARD_ADDRESS``."""
    import dask
    from distributed import Client, LocalCluster

    scheduler = scheduler or machine.scheduler
    if scheduler:
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S, security=security(machine)), None
    if machine.cluster.kind == "slurm":
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise ConfigError(f"{machine.source}: cluster.kind slurm needs dask-jobqueue "
                              "(pip install 'pde-pretrain[slurm]')") from None
        cluster = SLURMCluster(**machine.cluster.options)
        cluster.scale(jobs=machine.cluster.jobs)
        return Client(cluster), cluster
    resources = {"GPU": machine.gpus_per_worker} if machine.gpus_per_worker else None
    if dashboard:
        http, config = {"dashboard_address": DASHBOARD_ADDRESS}, {}
    else:
        http = {"dashboard_address": None, "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"}}
        config = {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
    with dask.config.set(config):  # read while the scheduler and the workers start
        cluster = LocalCluster(n_workers=n_workers or machine.n_workers, threads_per_worker=machine.threads_per_worker,
                               processes=True, host="127.0.0.1", memory_limit=machine.memory_limit,
                               silence_logs=logging.ERROR, resources=resources, **http)
    return Client(cluster), cluster


def _first_line(exc: BaseException, limit: int = 160) -> str:
    text = (str(exc).strip().splitlines() or ["no answer"])[0]
    return text if len(text) <= limit else text[:limit] + "..."
