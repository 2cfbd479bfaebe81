"""Where a sweep's cells run: a Dask client for an existing scheduler (optionally TLS with
mutual authentication, from the machine profile's ``security:`` block), a SLURM cluster, or a
LocalCluster on this machine, which listens on 127.0.0.1 only and serves no dashboard unless
asked. ``check_scheduler`` tells within seconds whether a scheduler answers at an address."""

from __future__ import annotations

import logging

from pde_lib.errors import ConfigError

_log = logging.getLogger(__name__)

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
                          "(tls_ca_file, tls_client_cert, tls_client_key; docs/clusters.md)")
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
        cluster = SLURMCluster(**slurm_options(machine))
        cluster.scale(jobs=machine.cluster.jobs)
        keep_jobs(cluster, machine.cluster.jobs)
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


def slurm_options(machine) -> dict:
    """Keyword arguments of ``dask_jobqueue.SLURMCluster`` for the profile: its
    ``cluster.options``, completed from the profile where they leave a choice open, so one job
    holds ``n_workers`` worker processes of ``threads_per_worker`` threads each (dask-jobqueue's
    own default would split ``cores`` into ~sqrt(cores) processes and give each worker several
    cells at once). ``job_cpu`` (the job's ``--cpus-per-task``) defaults to ``n_workers *
    torch_threads``, the CPUs the cells' kernels use. With ``gpus_per_worker`` the workers
    advertise that many ``GPU`` resources, which every cell task asks for (without them no task
    would ever start). ``log_directory`` and ``shared_temp_directory`` get ``~`` and ``$VARS``
    expanded, are made absolute and are created (mode 700: the latter receives the TLS key of
    ``security: true``)."""
    import os

    opts = dict(machine.cluster.options)
    opts.setdefault("processes", machine.n_workers)
    opts.setdefault("cores", machine.n_workers * machine.threads_per_worker)
    opts.setdefault("job_cpu", machine.n_workers * machine.torch_threads)
    if "memory" not in opts:
        if machine.memory_limit == "auto":
            raise ConfigError(f"{machine.source}: cluster.options.memory (the memory of one Slurm job, e.g. 16GB) "
                              "is needed when memory_limit is 'auto'")
        opts["memory"] = machine.memory_limit
    if machine.gpus_per_worker:
        extra = [str(a) for a in opts.get("worker_extra_args") or []]
        if "--resources" not in extra:
            opts["worker_extra_args"] = extra + ["--resources", f"GPU={machine.gpus_per_worker}"]
    for key in ("log_directory", "shared_temp_directory"):
        if opts.get(key):
            folder = os.path.abspath(os.path.expanduser(os.path.expandvars(str(opts[key]))))
            os.makedirs(folder, mode=0o700, exist_ok=True)
            opts[key] = folder
    return opts


#: seconds between two checks that a Slurm cluster still has its jobs
KEEP_JOBS_EVERY_S = 5
#: lost jobs replaced at most this many times per sweep (a job script that cannot start a
#: worker would otherwise be resubmitted for ever)
MAX_JOB_REPLACEMENTS = 20


def keep_jobs(cluster, jobs: int, every: float = KEEP_JOBS_EVERY_S, limit: int = MAX_JOB_REPLACEMENTS):
    """Keep ``jobs`` worker jobs in a dask-jobqueue cluster until it closes: a job that ended
    (``scancel``, pre-empted, past its walltime, node failure) is replaced by a new one.

    dask-jobqueue does not do this itself: ``scale(jobs=n)`` submits n jobs once, and when a
    job's worker is lost the cluster drops the job (after ``distributed.deploy.lost-worker-
    timeout``, 15 s) without submitting another; the tasks it ran go back to the scheduler's
    queue (Dask reschedules the tasks of lost workers). This daemon thread calls ``scale`` again
    every ``every`` seconds, which submits the missing jobs, at most ``limit`` of them in all."""
    import threading
    import time

    def run():
        replaced = 0
        while cluster.status.name not in ("closing", "closed", "failed"):
            time.sleep(every)
            missing = jobs - len(cluster.workers)
            if missing <= 0 or cluster.status.name != "running":
                continue
            if replaced + missing > limit:
                _log.error("%d worker job(s) lost and %d replaced already (limit %d): not replacing more; "
                          "see the job logs (cluster.options.log_directory)", missing, replaced, limit)
                return
            _log.warning("%d worker job(s) lost (cancelled, pre-empted or out of time): submitting %s",
                        missing, "a replacement" if missing == 1 else f"{missing} replacements")
            replaced += missing
            cluster.scale(jobs=jobs)

    thread = threading.Thread(target=run, name="keep-slurm-jobs", daemon=True)
    thread.start()
    return thread


def _first_line(exc: BaseException, limit: int = 160) -> str:
    text = (str(exc).strip().splitlines() or ["no answer"])[0]
    return text if len(text) <= limit else text[:limit] + "..."
