#!/bin/sh
test_description='git provenance without libgit2: cached beside the state database for an unchanged repository, or read from the index; a commit, an edit, a change of the index, a reset, a detached or packed HEAD are each seen by the next run'
. "$(dirname "$0")/lib.sh"

GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com
GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com
GIT_CONFIG_NOSYSTEM=1
DAG_GIT_TRACE=$PWD/trace
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
	GIT_CONFIG_NOSYSTEM DAG_GIT_TRACE

# run_is HOW COMMIT DIRTY: a run of repo/c.yaml worked its provenance out
# HOW (cached, index, libgit2, or fresh: index or libgit2, as a file's
# timestamps against the index's decide) and recorded COMMIT (a file
# holding it) and DIRTY.  The files it read are left 0.1 s old first,
# so a later change shows in their stat data (a newer one is never
# cached).
run_is() {
	sleep 0.1 &&
	rm -f trace &&
	dag-cli run repo/c.yaml --date 2026-03-01 >out &&
	case $1 in
	fresh) grep -qE "^(index|libgit2) repo/c.yaml\$" trace &&
		test "$(wc -l <trace)" -eq 1 ;;
	*) echo "$1 repo/c.yaml" >expect &&
		test_cmp expect trace ;;
	esac &&
	echo "$(cat "$2")|$3" >expect &&
	sqlite3 .dag-state/state.db "SELECT git_commit, git_dirty FROM runs
		ORDER BY id DESC LIMIT 1" >got &&
	test_cmp expect got
}

test_expect_success 'setup: a repository with the DAG file committed' '
	git init -q repo &&
	daily_dag repo/c 2026-03-01 <<-\EOF &&
	tasks:
	  noop:
	    kind: command
	    run: "true"
	EOF
	git -C repo add c.yaml &&
	git -C repo commit -q -m one &&
	git -C repo rev-parse HEAD >c1
'

test_expect_success 'the first run works it out; the next ones take the cache' '
	run_is fresh c1 0 &&
	test_grep "^dag-cli git provenance" .dag-state/git-provenance &&
	run_is cached c1 0 &&
	run_is cached c1 0
'

test_expect_success 'a commit of another file is seen' '
	echo x >repo/other &&
	git -C repo add other &&
	git -C repo commit -q -m two &&
	git -C repo rev-parse HEAD >c2 &&
	run_is fresh c2 0 &&
	run_is cached c2 0
'

test_expect_success 'an edit of the same size is seen, and one undone' '
	cp repo/c.yaml saved.yaml &&
	sed -i "s/run: \"true\"/run: \": ok\"/" repo/c.yaml &&
	test_must_fail cmp -s saved.yaml repo/c.yaml &&
	run_is libgit2 c2 1 &&
	run_is cached c2 1 &&
	sed -i "s/: ok/true/" repo/c.yaml &&
	cmp saved.yaml repo/c.yaml &&
	run_is libgit2 c2 0 &&
	sed -i "s/run: \"true\"/run: \": ok\"/" repo/c.yaml &&
	run_is libgit2 c2 1
'

test_expect_success 'staging the edit changes the index: still dirty' '
	git -C repo add c.yaml &&
	run_is libgit2 c2 1 &&
	run_is cached c2 1
'

test_expect_success 'committing it: clean at the new commit, read from the index' '
	git -C repo commit -q -m three &&
	git -C repo rev-parse HEAD >c3 &&
	run_is index c3 0 &&
	run_is cached c3 0
'

test_expect_success 'a soft reset moves HEAD back: the staged file is dirty' '
	git -C repo reset -q --soft HEAD~1 &&
	run_is libgit2 c2 1 &&
	run_is cached c2 1 &&
	git -C repo reset -q --hard "$(cat c3)" &&
	run_is fresh c3 0
'

test_expect_success 'a detached HEAD and packed refs are read without libgit2' '
	git -C repo checkout -q --detach &&
	run_is fresh c3 0 &&
	run_is cached c3 0 &&
	git -C repo checkout -q - &&
	sleep 0.1 &&
	dag-cli run repo/c.yaml --date 2026-03-01 >out &&
	git -C repo pack-refs --all &&
	test ! -e repo/.git/refs/heads/$(git -C repo symbolic-ref --short HEAD) &&
	run_is cached c3 0
'

test_expect_success 'an untracked DAG file is dirty, from the index, then cached' '
	sed -e "s/^dag: c/dag: u/" repo/c.yaml >repo/u.yaml &&
	sleep 0.1 &&
	rm -f trace &&
	dag-cli run repo/u.yaml --date 2026-03-01 >out &&
	dag-cli run repo/u.yaml --date 2026-03-01 >out &&
	printf "index repo/u.yaml\ncached repo/u.yaml\n" >expect &&
	test_cmp expect trace &&
	echo "$(cat c3)|1" >expect &&
	sqlite3 .dag-state/state.db "SELECT git_commit, git_dirty FROM runs
		WHERE dag = '\''u'\'' ORDER BY id DESC LIMIT 1" >got &&
	test_cmp expect got &&
	run_is cached c3 0
'

test_expect_success 'a damaged cache is only a miss' '
	printf "dag-cli git provenance 1\nnot\ta\tline\n" \
		>.dag-state/git-provenance &&
	run_is fresh c3 0 &&
	head -c 60 /dev/urandom >.dag-state/git-provenance &&
	run_is fresh c3 0 &&
	run_is cached c3 0
'

test_expect_success 'a file stamped in the future is never cached' '
	touch -d "+1 hour" repo/c.yaml &&
	run_is libgit2 c3 0 &&
	run_is libgit2 c3 0 &&
	touch repo/c.yaml &&
	run_is libgit2 c3 0 &&
	run_is cached c3 0
'

test_expect_success 'a packed commit, or core.ignorecase, is left to libgit2' '
	rm .dag-state/git-provenance &&
	git -C repo gc -q &&
	run_is fresh c3 0 &&
	git -C repo config core.ignorecase false &&
	rm .dag-state/git-provenance &&
	run_is libgit2 c3 0 &&
	test_grep "^dag-cli git provenance" .dag-state/git-provenance &&
	run_is cached c3 0
'

test_expect_success 'without a state database to keep it, the index still answers' '
	rm -rf .dag-state &&
	git -C repo config --unset core.ignorecase &&
	sed -e "s/^dag: c/dag: v/" repo/c.yaml >repo/v.yaml &&
	sleep 0.1 &&
	git -C repo add v.yaml &&
	git -C repo commit -q -m four &&
	git -C repo rev-parse HEAD >c4 &&
	rm -f trace &&
	dag-cli run repo/v.yaml --date 2026-03-01 >out &&
	echo "index repo/v.yaml" >expect &&
	test_cmp expect trace &&
	echo "$(cat c4)|0" >expect &&
	sqlite3 .dag-state/state.db "SELECT git_commit, git_dirty FROM runs" >got &&
	test_cmp expect got
'

test_done
