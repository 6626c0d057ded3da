#!/usr/bin/env bash
# A real single-node Slurm on 127.0.0.1 for the sharding tests: Debian's slurmctld, slurmd and
# munge, configured in a private state directory (no /etc/slurm, no systemd), so a test can
# `sbatch --array` real array jobs and `scancel` a running task.
#
#   scripts/slurm.sh start   # installs the packages if missing (root + apt), starts munged,
#                            # slurmctld and slurmd, waits for the node to be idle
#   scripts/slurm.sh env     # prints `export SLURM_CONF=...` for the client commands
#   scripts/slurm.sh stop    # stops the three daemons
#
# State lives in $DISCO_SLURM_DIR (default: ~/.cache/disco/slurm). The daemons stay up between
# test runs; `start` is idempotent.
set -euo pipefail

dir="${DISCO_SLURM_DIR:-$HOME/.cache/disco/slurm}"
conf="$dir/slurm.conf"
say() { echo "slurm.sh: $*" >&2; }

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
        command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        say "slurmctld, slurmd, sbatch or munged is missing and this is not root on Debian:"
        say "install Debian's slurmctld slurmd slurm-client munge"
        exit 1
    fi
    say "installing slurmctld slurmd slurm-client munge (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        slurmctld slurmd slurm-client munge >"$dir/apt.log" 2>&1 || {
        # A fresh machine may not have package lists yet.
        DEBIAN_FRONTEND=noninteractive apt-get update >>"$dir/apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            slurmctld slurmd slurm-client munge >>"$dir/apt.log" 2>&1
    } || {
        say "apt-get failed; see $dir/apt.log"
        exit 1
    }
}

configure() {
    local cpus mem user
    cpus=$(nproc)
    # Leave the node some memory of its own; Slurm refuses a node below its RealMemory.
    mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
    user=$(id -un)
    mkdir -p "$dir/state" "$dir/spool" "$dir/log"
    # cons_tres with CR_Core lets the array's tasks share the node (one core each) instead of
    # running one at a time; linuxproc and task/none need no cgroups, which containers lack.
    cat >"$conf" <<EOF
ClusterName=disco
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
MaxArraySize=1001
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=disco Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    mkdir -p "$dir"
    install
    configure
    export SLURM_CONF="$conf"
    if ! pgrep -x munged >/dev/null; then
        mkdir -p /run/munge
        chown munge:munge /run/munge 2>/dev/null || true
        if [ "$(id -u)" = 0 ]; then
            runuser -u munge -- /usr/sbin/munged || /usr/sbin/munged --force
        else
            /usr/sbin/munged
        fi
    fi
    running "$dir/slurmctld.pid" || /usr/sbin/slurmctld -f "$conf"
    running "$dir/slurmd.pid" || /usr/sbin/slurmd -f "$conf"
    for _ in $(seq 1 60); do
        state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
        case "$state" in
        idle | mix | alloc) say "up: node localhost is $state (SLURM_CONF=$conf)"; return 0 ;;
        down* | drain*) scontrol update nodename=localhost state=resume 2>/dev/null || true ;;
        esac
        sleep 1
    done
    say "the node did not come up; logs in $dir/log"
    tail -20 "$dir/log/"*.log >&2 || true
    exit 1
}

stop() {
    for p in slurmd slurmctld; do
        running "$dir/$p.pid" && kill "$(cat "$dir/$p.pid")" || true
    done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) echo "export SLURM_CONF=$conf" ;;
*)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
