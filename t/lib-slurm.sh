# t/lib-slurm.sh: for the tests of the Slurm executor.  Source after
# t/lib.sh.  They run on the private one-node cluster of
# scripts/slurm-local, which scripts/test starts before the suites and
# stops at the end; a test never starts or stops it itself (other tests
# share it).  Without a running cluster the whole script is skipped, with
# the reason, as TAP's "1..0 # SKIP".

slurm_dir=${DAG_SLURM_DIR:-/tmp/dag-slurm}
if ! "$SRC_DIR/scripts/slurm-local" status 2>/dev/null; then
	say "1..0 # SKIP no Slurm cluster is running (as root: scripts/slurm-local start; scripts/test does it)"
	cd "$BUILD_DIR" && rm -rf "$TRASH"
	exit 0
fi
SLURM_CONF=$slurm_dir/slurm.conf
export SLURM_CONF

# wait_for CMD...: until CMD succeeds, up to 60 s.
wait_for() {
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "gave up waiting for: $*" >&2; return 1; }
		sleep 0.2
	done
}

# slurm_jobs NAME: ids of the cluster's jobs named NAME still queued or
# running, one per line.
slurm_jobs() {
	squeue -h -n "$1" -t PD,R,CG,CF -o %A
}

# slurm_wait_gone NAME: wait (up to 90 s) until no job named NAME is queued
# or running.
slurm_wait_gone() {
	i=0
	while [ -n "$(slurm_jobs "$1")" ]; do
		i=$((i + 1))
		[ $i -lt 450 ] || { say "jobs named $1 still there after 90 s" >&2; return 1; }
		sleep 0.2
	done
}
