#!/bin/sh
test_description='git provenance: each run records the commit of the DAG file and whether it was dirty; status and --json show it; --at REV loads the file as it was at a revision; nothing of git outside a repository'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-web.sh"

GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com
GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com
GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
	GIT_CONFIG_NOSYSTEM

# field TASK PARTITION FIELD: one field of an instance in st.json
field() {
	python3 -c "
import json, sys
for i in json.load(open('st.json'))['instances']:
    if i['task'] == sys.argv[1] and i['partition'] == sys.argv[2]:
        print(json.dumps(i.get(sys.argv[3])))
" "$@"
}

# field_is PARTITION FIELD JSON: the field of the instance of say at
# PARTITION in st.json is JSON.
field_is() {
	echo "$3" >expect &&
	field say "$1" "$2" >got &&
	test_cmp expect got
}

# copy_and_run NAME FILE: repo/prov.yaml as the DAG NAME (its outputs in
# NAME-out/) at FILE, run for 2026-02-01, its status --json in st.json.
copy_and_run() {
	sed -e "s/^dag: prov/dag: $1/" -e "s|out/|$1-out/|" \
		repo/prov.yaml >"$2" &&
	dag-cli run "$2" --date 2026-02-01 >res &&
	dag-cli status "$2" --date 2026-02-01 --json >st.json
}

test_expect_success 'setup: a repository whose DAG file changes a param' '
	git init -q repo &&
	daily_dag repo/prov 2026-02-01 <<-\EOF &&
	params:
	  word: one
	tasks:
	  say:
	    kind: command
	    run: "echo {word} > {target}"
	    target: "out/{date}.txt"
	EOF
	git -C repo add prov.yaml &&
	git -C repo commit -q -m one &&
	git -C repo rev-parse HEAD >c1 &&
	sed -i "s/word: one/word: two/" repo/prov.yaml &&
	echo "dag: other" >repo/new.yaml &&
	git -C repo add prov.yaml new.yaml &&
	git -C repo commit -q -m two &&
	git -C repo rev-parse HEAD >c2 &&
	! test_cmp c1 c2
'

test_expect_success 'a run records the commit, clean; status --json shows it' '
	dag-cli run repo/prov.yaml --date 2026-02-01 >res &&
	echo two >expect &&
	test_cmp expect out/2026-02-01.txt &&
	dag-cli status repo/prov.yaml --date 2026-02-01 --json >st.json &&
	field_is 2026-02-01 commit "\"$(cat c2)\"" &&
	field_is 2026-02-01 dirty false
'

test_expect_success 'backfill --at an older revision runs the pipeline of that time' '
	dag-cli backfill repo/prov.yaml --at HEAD~1 --from 2026-02-02 \
		--to 2026-02-03 >res &&
	test_grep "2 ran" res &&
	echo one >expect &&
	test_cmp expect out/2026-02-02.txt &&
	test_cmp expect out/2026-02-03.txt &&
	dag-cli status repo/prov.yaml --from 2026-02-01 --to 2026-02-03 --json >st.json &&
	field_is 2026-02-03 commit "\"$(cat c1)\"" &&
	field_is 2026-02-03 dirty false &&
	field_is 2026-02-03 state "\"stale\""
'

test_expect_success 'an edit not committed: the run says dirty' '
	echo "# a comment" >>repo/prov.yaml &&
	dag-cli run repo/prov.yaml --date 2026-02-04 >res &&
	dag-cli status repo/prov.yaml --date 2026-02-04 --json >st.json &&
	field_is 2026-02-04 dirty true &&
	git -C repo checkout -q prov.yaml
'

test_expect_success 'status lists the commits that made what it shows' '
	dag-cli status repo/prov.yaml --from 2026-02-01 --to 2026-02-04 >res &&
	cat >expect <<-EOF &&
	made at commit $(cat c2): 1 instance
	made at commit $(cat c1): 2 instances
	made at commit $(cat c2) with the DAG file dirty: 1 instance
	EOF
	sed -n "/^made at/p" res >got &&
	test_cmp expect got
'

test_expect_success 'the API shows the commit of each instance and attempt' '
	web_start --dags repo &&
	get "/api/dags/prov/status?from=2026-02-01&to=2026-02-04" &&
	code_is 200 &&
	C1=$(cat c1) C2=$(cat c2) python3 - <<-\EOF &&
	import json, os
	d = {i["partition"]: i for i in json.load(open("body"))["instances"]}
	assert d["2026-02-01"]["commit"] == os.environ["C2"], d
	assert d["2026-02-01"]["dirty"] is False, d
	assert d["2026-02-02"]["commit"] == os.environ["C1"], d
	assert d["2026-02-04"]["dirty"] is True, d
	EOF
	get "/api/dags/prov/instance?task=say&partition=2026-02-04" &&
	code_is 200 &&
	C2=$(cat c2) python3 - <<-\EOF &&
	import json, os
	a = json.load(open("body"))["attempts"]
	assert a[-1]["commit"] == os.environ["C2"] and a[-1]["dirty"] is True, a
	EOF
	web_stop
'

test_expect_success 'validate and plan --at' '
	dag-cli validate repo/prov.yaml --at "$(cat c1)" >res &&
	echo "repo/prov.yaml@$(cat c1): ok (dag prov, 1 task)" >expect &&
	test_cmp expect res &&
	dag-cli plan repo/prov.yaml --at HEAD~1 --date 2026-02-05 >res &&
	test_grep "^2026-02-05  say .*run" res
'

test_expect_success '--at errors: no such revision, no such file at it' '
	test_expect_code 2 dag-cli validate repo/prov.yaml --at nosuch 2>err &&
	test_grep "no such commit in the git repository of .repo/prov.yaml." err &&
	test_expect_code 2 dag-cli validate repo/new.yaml --at HEAD~1 2>err &&
	test_grep "no file .new.yaml. at git revision .HEAD~1." err &&
	mkdir plain &&
	cp repo/prov.yaml plain/prov.yaml &&
	test_expect_code 2 dag-cli validate plain/prov.yaml --at HEAD 2>err &&
	test_grep "is not in a git work tree" err
'

test_expect_success 'an untracked file is dirty; a file in no repository has no commit' '
	copy_and_run loose repo/loose.yaml &&
	field_is 2026-02-01 dirty true &&
	copy_and_run plain plain/prov.yaml &&
	field_is 2026-02-01 commit null &&
	dag-cli status plain/prov.yaml --date 2026-02-01 >res &&
	! grep "made at" res
'

test_expect_success 'a repository that cannot be read: a warning, and the run goes on without a commit' '
	mkdir -p broken/.git &&
	copy_and_run broken broken/prov.yaml 2>err &&
	test_grep "^dag-cli: warning: no git provenance: cannot open the git repository of .*broken" err &&
	test $(wc -l <err) = 1 &&
	field_is 2026-02-01 commit null
'

test_expect_success 'a run refused before it starts says nothing of git' '
	sed -e "s/^dag: prov/dag: twice/" -e "s|out/{date}|out/{date:%d}|" \
		repo/prov.yaml >broken/twice.yaml &&
	dag-cli validate broken/twice.yaml &&
	test_expect_code 2 dag-cli backfill broken/twice.yaml \
		--from 2026-02-01 --to 2026-03-01 >res 2>err &&
	test_grep "would write the same target" err &&
	! grep -i git err
'

# (touched: other stat data than the index and the cache hold, which
# only libgit2 can tell apart)
test_expect_success 'libgit2 is loaded only for a file in a repository' '
	! ldd "$BUILD_DIR/dag-cli" >ldd.out 2>&1 || ! grep libgit2 ldd.out &&
	LD_DEBUG=files dag-cli run plain/prov.yaml --date 2026-02-02 \
		>res 2>debug &&
	! grep "file=libgit2" debug &&
	touch repo/prov.yaml &&
	LD_DEBUG=files dag-cli run repo/prov.yaml --date 2026-02-05 \
		>res 2>debug &&
	grep "file=libgit2" debug
'

test_expect_success 'an older state database is migrated: its runs have no commit' '
	dag-cli run plain/prov.yaml --date 2026-02-03 --state old.db >res &&
	sqlite3 old.db "ALTER TABLE runs DROP COLUMN git_commit;
		ALTER TABLE runs DROP COLUMN git_dirty;
		ALTER TABLE leases DROP COLUMN pgid; PRAGMA user_version = 3" &&
	dag-cli status repo/prov.yaml --date 2026-02-03 --state old.db >res &&
	dag-cli run repo/prov.yaml --date 2026-02-06 --state old.db >res &&
	sqlite3 old.db "PRAGMA user_version" >got &&
	echo 6 >expect &&
	test_cmp expect got &&
	sqlite3 old.db "SELECT count(*) FROM runs WHERE git_commit IS NULL; SELECT git_commit FROM runs WHERE git_commit IS NOT NULL" >got &&
	printf "1\n%s\n" "$(cat c2)" >expect &&
	test_cmp expect got
'

# The commit is worked out while the run starts and written into the
# run's row as soon as it is known: a task that runs for a while finds it
# there, with the workers (the default) and with DAG_EXECUTOR=local.
# The file is touched before each run, so libgit2 works it out (neither
# the index nor the cache can answer for it).
test_expect_success 'the run row has the commit while the run goes on' '
	state="$PWD/.dag-state/state.db" &&
	cat >look.sh <<-EOF &&
	for i in \$(seq 100); do
		c=\$(sqlite3 -cmd ".timeout 30000" "$state" "SELECT git_commit FROM runs ORDER BY id DESC LIMIT 1")
		test -n "\$c" && break
		sleep 0.1
	done
	echo "\$c" >"\$1"
	EOF
	daily_dag repo/wait 2026-02-01 <<-EOF &&
	tasks:
	  look:
	    kind: command
	    run: "sh $PWD/look.sh {target}"
	    target: "wait-out/{date}.txt"
	  load:
	    kind: sql
	    database: "$PWD/wait.db"
	    sql: "CREATE TABLE IF NOT EXISTS t (x)"
	    target: {table: t}
	EOF
	git -C repo add wait.yaml &&
	git -C repo commit -q -m wait &&
	git -C repo rev-parse HEAD >expect &&
	touch repo/wait.yaml &&
	DAG_GIT_TRACE=trace dag-cli run repo/wait.yaml --date 2026-02-01 >res &&
	test_cmp expect wait-out/2026-02-01.txt &&
	touch repo/wait.yaml &&
	DAG_GIT_TRACE=trace DAG_EXECUTOR=local dag-cli run repo/wait.yaml \
		--date 2026-02-02 >res &&
	printf "libgit2 repo/wait.yaml\nlibgit2 repo/wait.yaml\n" >expect.trace &&
	test_cmp expect.trace trace &&
	test_cmp expect wait-out/2026-02-02.txt &&
	sqlite3 "$state" "SELECT git_commit, git_dirty FROM runs ORDER BY id DESC LIMIT 2" >got &&
	printf "%s|0\n%s|0\n" "$(cat expect)" "$(cat expect)" >expect.rows &&
	test_cmp expect.rows got
'

test_done
