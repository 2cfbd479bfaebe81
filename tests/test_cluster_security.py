"""A shared Dask scheduler with TLS and authentication (mutual TLS): the sweep reaches it with the
machine profile's ``security:`` block and nothing else gets in. Certificates are made with the
``openssl`` command line for a throw-away CA."""

import json
import shutil
import subprocess
import sys
import time

import pytest

from pde_lib.errors import ConfigError
from pde_lib.params import validate_machine
from pde_lib.sweep.cluster import check_scheduler, security

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca_and_cert(folder, name):
    """A CA ``name``-ca.pem and a certificate ``name``.pem / .key it signed."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem",
             "-days", "1", "-subj", f"/CN={name}-ca", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN={name}", cwd=folder)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{name}-ca.pem", "-CAkey", f"{name}-ca.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", cwd=folder)
    return {k: str(folder / f) for k, f in (("ca", f"{name}-ca.pem"), ("cert", f"{name}.pem"), ("key", f"{name}.key"))}


@pytest.fixture(scope="module")
def tls_scheduler(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    ours, other = _ca_and_cert(folder, "cluster"), _ca_and_cert(folder, "intruder")
    info = folder / "scheduler.json"
    proc = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                             "--protocol", "tls", "--port", "0", "--no-dashboard", "--scheduler-file", str(info),
                             "--tls-ca-file", ours["ca"], "--tls-cert", ours["cert"], "--tls-key", ours["key"]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not info.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert info.exists(), "the TLS scheduler did not start"
        time.sleep(0.5)
        yield json.loads(info.read_text())["address"], ours, other
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _profile(files, address):
    return validate_machine({"scheduler": address, "security": {
        "tls_ca_file": files["ca"], "tls_client_cert": files["cert"], "tls_client_key": files["key"],
        "require_encryption": True}}, "machine.yaml")


def test_profile_security_block_reaches_a_tls_scheduler(tls_scheduler):
    address, ours, _ = tls_scheduler
    assert address.startswith("tls://127.0.0.1:")
    check_scheduler(address, security(_profile(ours, address)))  # no error: handshake done


def test_tls_scheduler_without_security_block_is_refused(tls_scheduler):
    address, _, _ = tls_scheduler
    with pytest.raises(ConfigError, match="uses TLS: give the machine profile a security: block"):
        check_scheduler(address, security(validate_machine({"scheduler": address}, "machine.yaml")))


def test_client_certificate_of_another_ca_is_not_let_in(tls_scheduler):
    """The client trusts the scheduler (right CA) but its own certificate is not signed by the
    cluster's CA: the scheduler refuses it (authentication)."""
    address, ours, other = tls_scheduler
    intruder = {"ca": ours["ca"], "cert": other["cert"], "key": other["key"]}
    with pytest.raises(ConfigError, match="no Dask scheduler answers"):
        check_scheduler(address, security(_profile(intruder, address)), timeout=3)


def test_unknown_security_key_is_one_line():
    with pytest.raises(ConfigError, match="machine.yaml: security: Unknown parameters"):
        security(validate_machine({"security": {"tls_ca_fil": "ca.pem"}}, "machine.yaml"))
