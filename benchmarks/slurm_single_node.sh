#!/bin/bash
# Start a single-node Slurm on this machine, to try `srun` with wbentropy (developer aid).
# With --two-nodes, the machine is two Slurm nodes n1 and n2 (two slurmd on ports 17001 and
# 17002 of 127.0.0.1, each with all CPUs): `salloc -N 2 -n 4 mpiexec -n 4 ...` then runs on two
# nodes, and MPI sees two nodes (two shared-memory domains). (`srun -N 2 -n 4 --mpi=pmi2` also
# starts, but fails in MPI_Init in 10-20 % of launches: docs/cli.md, "Running under Slurm".)
#
# What it does, on Debian 12 as root and without systemd:
#   1. installs slurm-wlm and munge with apt-get (skipped if slurmctld is already there);
#   2. writes a minimal /etc/slurm/slurm.conf: one node ($(hostname), its CPUs and memory
#      from `slurmd -C`), one partition `debug`, proctrack/linuxproc, task/none,
#      select/cons_tres, MpiDefault=none, no accounting, no cgroups;
#   3. starts munged, slurmctld and slurmd as daemons (each only if not already running)
#      and waits until the node is idle;
#   4. checks `srun -N "${#names[@]}" -n 2 printenv SLURMD_NODENAME`.
# Running it again is harmless: it rewrites the same files and leaves running daemons alone.
# Stop everything with `benchmarks/slurm_single_node.sh stop`; switch layouts by stopping first.
#
# Not run by CI. tests/test_srun.py uses the Slurm it finds (and skips without one).
# Then: srun -n 2 --mpi=pmi2 wbentropy compute ...   (see docs/cli.md, "Running under Slurm").
# `srun --mpi=pmix` would also need libpmix-dev (Debian's plugin loads the unversioned
# libpmix.so), and the mpich wheel has no PMIx anyway, so it is not installed here.
set -euo pipefail

# Each daemon by the process id in its pid file (never by name).
# slurmd's files carry the node name (%n in slurm.conf), so that two can run side by side.
pidfile() { case "$1" in munged) echo /run/munge/munged.pid ;; *) echo "/run/slurm/$1.pid" ;; esac; }
running() { local f; f=$(pidfile "$1"); [[ -s "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

if [[ "${1:-}" == "stop" ]]; then
    pids=()  # read each pid before the kill: a daemon removes its pid file as it exits
    for f in /run/slurm/slurmd.*.pid "$(pidfile slurmctld)" "$(pidfile munged)"; do
        p=$(cat "$f" 2>/dev/null || true)
        if [[ -n "$p" ]] && kill "$p" 2>/dev/null; then pids+=("$p"); fi
    done
    # wait until they are gone (up to 30 s): a start right after a stop would otherwise find a
    # dying slurmctld "running", not start one, and hang in its first srun
    for _ in $(seq 30); do
        alive=false
        for p in "${pids[@]}"; do if kill -0 "$p" 2>/dev/null; then alive=true; fi; done
        $alive || break
        sleep 1
    done
    exit 0
fi
two_nodes=false
[[ "${1:-}" == "--two-nodes" ]] && two_nodes=true

if ! command -v slurmctld >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge
fi

host=$(hostname)
node_line=$(slurmd -C | head -n 1)                 # NodeName=vm CPUs=2 ... RealMemory=...
node_hw=$(sed 's/^NodeName=[^ ]* //' <<<"$node_line")  # CPUs=2 Boards=1 ... RealMemory=24105

if $two_nodes; then
    names=(n1 n2)
    nodes="NodeName=n1 NodeHostname=${host} NodeAddr=127.0.0.1 Port=17001 ${node_hw} State=UNKNOWN
NodeName=n2 NodeHostname=${host} NodeAddr=127.0.0.1 Port=17002 ${node_hw} State=UNKNOWN"
    partition="n1,n2"
else
    names=("${host}")
    nodes="NodeName=${host} ${node_hw} State=UNKNOWN"
    partition="${host}"
fi

mkdir -p /etc/slurm /var/spool/slurmctld /var/log/slurm /run/slurm /run/munge
for n in "${names[@]}"; do mkdir -p "/var/spool/slurmd.$n"; done
chown slurm:slurm /var/spool/slurmctld /var/log/slurm /run/slurm
chown munge:munge /run/munge

cat >/etc/slurm/slurm.conf <<EOF
# Minimal single-node Slurm written by wbentropy/benchmarks/slurm_single_node.sh
ClusterName=local
SlurmctldHost=${host}
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd.%n
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.%n.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
${nodes}
PartitionName=debug Nodes=${partition} Default=YES MaxTime=INFINITE State=UP
EOF
# No cgroup.conf: proctrack/linuxproc and task/none use no cgroups (and Slurm 22.05, Debian 12's,
# has no CgroupPlugin=disabled: slurmd refuses to start with it).
rm -f /etc/slurm/cgroup.conf

if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile=/etc/munge/munge.key   # normally made by the munge package
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
running munged || su -s /bin/sh munge -c /usr/sbin/munged
running slurmctld || /usr/sbin/slurmctld
for n in "${names[@]}"; do
    running "slurmd.$n" || /usr/sbin/slurmd -N "$n"
done

for _ in $(seq 30); do                              # wait for the node to register
    idle=$(sinfo -h -t idle,mix,alloc -o %D 2>/dev/null || true)
    [[ "${idle:-0}" -ge "${#names[@]}" ]] && break
    sleep 1
done
sinfo
srun -N "${#names[@]}" -n 2 printenv SLURMD_NODENAME
