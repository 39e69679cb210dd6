#!/bin/sh
test_description='the one-node Slurm of scripts/slurm-local behaves as the Slurm executor assumes'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-slurm.sh"

name=dagt3800-$$

# wait_file FILE: up to 60 s.
wait_file() {
	i=0
	until [ -e "$1" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || return 1
		sleep 0.2
	done
}

test_expect_success 'sbatch --parsable prints the id; the job runs here' '
	id=$(sbatch --parsable -J $name -o out.%j --wrap "echo ran >ran.txt") &&
	case $id in *[!0-9]* | "") false ;; esac &&
	wait_file ran.txt &&
	echo ran >expect && test_cmp expect ran.txt &&
	slurm_wait_gone $name
'

test_expect_success 'one squeue -t all -j a,b reports each job, finished ones too' '
	a=$(sbatch --parsable -J $name -o /dev/null --wrap "exit 3") &&
	b=$(sbatch --parsable -J $name -o /dev/null --wrap "true") &&
	i=0 &&
	while :; do
		squeue -h -t all -j $a,$b -o "%i %T" >states &&
		grep -q "^$a FAILED" states && grep -q "^$b COMPLETED" states && break
		i=$((i + 1)) && test $i -lt 150 && sleep 0.2 || return 1
	done
'

test_expect_success 'a job array runs every task with its index' '
	id=$(sbatch --parsable -J $name -o /dev/null --array=0-3 \
		--wrap "echo \$SLURM_ARRAY_TASK_ID >arr.\$SLURM_ARRAY_TASK_ID") &&
	for k in 0 1 2 3; do wait_file arr.$k || return 1; done &&
	cat arr.0 arr.1 arr.2 arr.3 >got && printf "0\n1\n2\n3\n" >expect &&
	test_cmp expect got &&
	slurm_wait_gone $name
'

test_expect_success 'scancel of a running job: its state is CANCELLED, its process gone' '
	id=$(sbatch --parsable -J $name -o /dev/null --wrap "echo \$\$ >pid; exec sleep 300") &&
	wait_file pid && sleep 0.2 &&
	pid=$(cat pid) && kill -0 $pid &&
	scancel $id &&
	i=0 &&
	while kill -0 $pid 2>/dev/null; do
		i=$((i + 1)) && test $i -lt 150 && sleep 0.2 || return 1
	done &&
	# The process may be gone while the job is still COMPLETING.
	i=0 &&
	while squeue -h -t all -j $id -o %T >state && grep -q COMPLETING state; do
		i=$((i + 1)) && test $i -lt 150 && sleep 0.2 || return 1
	done &&
	test_grep CANCELLED state
'

test_expect_success 'a finished job vanishes from squeue: -j of only vanished ids fails' '
	id=$(sbatch --parsable -J $name -o /dev/null --wrap true) &&
	i=0 &&
	while squeue -h -t all -j $id -o %T >state 2>err; do
		i=$((i + 1)) && test $i -lt 300 && sleep 0.2 || return 1
	done &&
	test_grep "Invalid job id" err
'

test_done
