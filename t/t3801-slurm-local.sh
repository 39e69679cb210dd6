#!/bin/sh
test_description='scripts/slurm-local: a second private cluster starts idempotently and stops only its own daemons'
. "$(dirname "$0")/lib.sh"
# Needs root and the Debian packages, and the shared cluster running, whose
# daemons must survive this test's stop.
. "$SRC_DIR/t/lib-slurm.sh"

# A cluster of its own: own directory, own free ports, own munged.
ports=$(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
DAG_SLURM_DIR=$TRASH/c
DAG_SLURM_CTLD_PORT=${ports% *}
DAG_SLURM_NODE_PORT=${ports#* }
DAG_SLURM_CPUS=4
export DAG_SLURM_DIR DAG_SLURM_CTLD_PORT DAG_SLURM_NODE_PORT DAG_SLURM_CPUS
local=$SRC_DIR/scripts/slurm-local
shared_ctld=$(cat "$slurm_dir/run/slurmctld.pid")

pids() {
	cat "$DAG_SLURM_DIR"/run/munged.pid "$DAG_SLURM_DIR"/run/slurmctld.pid \
		"$DAG_SLURM_DIR"/run/slurmd.pid
}

test_expect_success 'start brings up a cluster that runs a job' '
	"$local" start &&
	"$local" status &&
	SLURM_CONF=$DAG_SLURM_DIR/slurm.conf srun -t 1 sh -c "echo \$SLURM_CPUS_ON_NODE" >cpus &&
	test -s cpus &&
	SLURM_CONF=$DAG_SLURM_DIR/slurm.conf sinfo -h -o %c >advertised &&
	echo 4 >expect && test_cmp expect advertised
'

test_expect_success 'a second start reuses the running daemons' '
	pids >before &&
	"$local" start &&
	pids >after &&
	test_cmp before after
'

test_expect_success 'its env line names its own slurm.conf' '
	"$local" env >env &&
	echo "export SLURM_CONF=$DAG_SLURM_DIR/slurm.conf" >expect &&
	test_cmp expect env
'

test_expect_success 'stop cancels its jobs and ends its daemons, nothing else' '
	SLURM_CONF=$DAG_SLURM_DIR/slurm.conf sbatch -o /dev/null \
		--wrap "echo \$\$ >$TRASH/job.pid; exec sleep 300" &&
	i=0 && until test -s job.pid; do
		i=$((i + 1)) && test $i -lt 300 && sleep 0.2 || return 1
	done &&
	pids >mine &&
	"$local" stop &&
	for p in $(cat mine) $(cat job.pid); do
		! kill -0 $p 2>/dev/null || { echo "$p still runs"; return 1; }
	done &&
	test_must_fail "$local" status &&
	kill -0 $shared_ctld &&
	DAG_SLURM_DIR=$slurm_dir "$local" status
'

test_expect_success 'stop again is harmless; DAG_SLURM_PURGE=1 removes the directory' '
	"$local" stop &&
	DAG_SLURM_PURGE=1 "$local" stop &&
	! test -e "$DAG_SLURM_DIR"
'

test_done
