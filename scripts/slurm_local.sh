#!/usr/bin/env bash
# A single-node Slurm on this machine, for trying (and testing) the cluster path of a sweep
# (docs/slurm.md). Debian/Ubuntu only; run as root.
#
#   bash scripts/slurm_local.sh start    # install, configure and start; wait until the node is idle
#   bash scripts/slurm_local.sh status   # sinfo and squeue
#   bash scripts/slurm_local.sh stop     # stop the daemons this script started
#
# What `start` changes on the machine:
#   - apt-get installs slurmctld, slurmd, slurm-client and munge (if `sinfo` or `slurmctld` is missing);
#   - creates /etc/munge/munge.key if absent (the Debian package normally creates it);
#   - writes /etc/slurm/slurm.conf for one node (this host's name, its CPUs and memory as
#     `slurmd -C` reports them, one partition "debug"); it refuses to replace a slurm.conf it did
#     not write (marker line below), so an existing Slurm set-up is never touched;
#   - creates /var/spool/slurmctld, /var/spool/slurmd, /var/log/slurm, /run/munge;
#   - starts munged, slurmctld and slurmd as root (no systemd needed), with their pid files under
#     /run/slurm_local.
# Settings for a container: no cgroups (proctrack/linuxproc, task/none), no accounting,
# select/cons_tres with CR_Core_Memory, SlurmUser=root.
# `stop` kills exactly those pid files' processes and leaves the packages and files in place.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARKER="# written by pde-pretrain scripts/slurm_local.sh"
RUN=/run/slurm_local
WAIT_S=${SLURM_LOCAL_WAIT_S:-60}

die() { echo "slurm_local: $*" >&2; exit 1; }

install_packages() {
  if command -v sinfo >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
     && command -v munged >/dev/null; then
    return
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install slurmctld, slurmd, slurm-client and munge yourself"
  echo "slurm_local: apt-get install slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
    die "$CONF exists and was not written by this script; not replacing it"
  fi
  local node host
  host=$(hostname -s)
  # "NodeName=host CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
  node=$(slurmd -C | head -1)
  [[ "$node" == NodeName=* ]] || die "slurmd -C gave no node line: $node"
  mkdir -p /etc/slurm
  cat > "$CONF.tmp" <<EOF
$MARKER
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=600
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
  echo "slurm_local: wrote $CONF ($node)"
}

running() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start() {
  [ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts daemons)"
  install_packages
  mkdir -p "$RUN" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    echo "slurm_local: creating /etc/munge/munge.key"
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  chmod 0400 /etc/munge/munge.key
  write_conf
  if ! running munged; then
    # munged as its own user, as the Debian service does
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$RUN/munged.pid"
  fi
  munge -n | unmunge >/dev/null || die "munge does not work (see /var/log/munge/munged.log)"
  running slurmctld || /usr/sbin/slurmctld
  running slurmd || /usr/sbin/slurmd
  local host state t=0
  host=$(hostname -s)
  while :; do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    if [ "$t" -ge "$WAIT_S" ]; then
      tail -5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
      die "node $host not idle after ${WAIT_S} s (state: '${state:-no answer}')"
    fi
    sleep 1; t=$((t + 1))
  done
  echo "slurm_local: node $host idle after ${t} s"
  sinfo
}

stop() {
  local d pid
  for d in slurmd slurmctld munged; do
    if running "$d"; then
      pid=$(cat "$RUN/$d.pid")
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      echo "slurm_local: stopped $d (pid $pid)"
    fi
    rm -f "$RUN/$d.pid"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo; squeue ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
