#!/usr/bin/env bash
# Real SLURM test: a single-node SLURM cluster on localhost (Debian slurmctld, slurmd, munge),
# the quick config's stages run through `snakemake --workflow-profile profiles/slurm`, outputs
# compared with a local run's, a job forced to fail, daemons torn down by PID.
#
#   .ci/slurm_test.sh     # as root on Debian/Ubuntu; elsewhere it says why it skips and exits 0
#
# Environment: SLURM_TEST_PYTHON (interpreter with the project's dependencies; default
# .venv/bin/python, else python3), SLURM_TEST_BUDGET_S (overall limit, default 900),
# SLURM_TEST_KEEP=1 (keep the temp folder). Everything is written into one temp folder (plus, for
# the test's lifetime, a link at /etc/slurm/slurm.conf, see below); never into the repo.
set -euo pipefail

# Snakemake targets run through SLURM and locally, then compared (one rule name per stage).
TARGETS=(hh_all mapping_all)
# A condition whose re-balanced resting potential is unstable: its hh_simulate job stops with
# the error the README documents for v_rest_mV ("not a stable resting potential").
FAILING_CONDITION=unstable_rest
FAILING_ROW=$'unstable_rest\t1.0\t0.036\t0.0003\t\t\t\t\t-60.0\tgNa 1.0 cannot rest at -60 mV'
FAILING_TARGET=results/hh/$FAILING_CONDITION/summary.json
FAILING_MESSAGE="not a stable resting potential"
PARTITION=snakemake_test
# The jobstep executor runs `srun` inside each job with every SLURM_* variable removed, SLURM_CONF
# included, so that srun finds its configuration only at the compiled-in default path. The test
# links its temp slurm.conf there while it runs; a real file there means a real installation.
DEFAULT_CONF=/etc/slurm/slurm.conf

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUDGET_S=${SLURM_TEST_BUDGET_S:-900}
START_S=$SECONDS
DEADLINE_S=$((SECONDS + BUDGET_S))
TMP=""
GUARDED_PID=""
# The script's own stdout/stderr: the teardown may run while a command's output is redirected.
exec 3>&1 4>&2

say() { printf '[slurm-test %4ds] %s\n' "$((SECONDS - START_S))" "$*"; }
skip() {
	echo "SLURM test skipped: $*"
	exit 0
}
die() {
	say "FAILED: $*" >&2
	exit 1
}

# `guarded LIMIT_S CMD...`: CMD under `timeout -s KILL`, never past the overall deadline. KILL,
# because a Snakemake waiting for a job status it never gets ignores SIGTERM. Run in the
# background and waited for, so that a signal to this script is handled at once; `timeout`
# leads its own process group, which the teardown kills if it is still running.
guarded() {
	local limit=$1
	shift
	local left=$((DEADLINE_S - SECONDS))
	((left > 0)) || die "overall budget of ${BUDGET_S}s used up before: $*"
	((limit < left)) || limit=$left
	timeout -s KILL "$limit" "$@" &
	GUARDED_PID=$!
	local rc=0
	wait "$GUARDED_PID" || rc=$?
	GUARDED_PID=""
	return "$rc"
}

# --- can this machine run the test? -------------------------------------------------------------
[[ $(uname -s) == Linux ]] || skip "not Linux ($(uname -s))"
((EUID == 0)) || skip "not root (installing the Debian packages and running slurmd and munged need root)"
for tool in timeout setpriv hostname nproc free git tar pgrep; do
	command -v "$tool" >/dev/null || skip "'$tool' not found"
done
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
	skip "a SLURM daemon is already running on this machine; not touching a real cluster"
fi
if [[ -L $DEFAULT_CONF && ! -e $DEFAULT_CONF && $(readlink "$DEFAULT_CONF") == /tmp/slurm-test.*/slurm/slurm.conf ]]; then
	rm -f "$DEFAULT_CONF" # dangling link left by a killed earlier run of this test
fi
[[ ! -e $DEFAULT_CONF && ! -L $DEFAULT_CONF ]] ||
	skip "$DEFAULT_CONF exists; not replacing a real SLURM configuration"

PACKAGES=(slurmctld slurmd slurm-client munge)
missing=()
for bin in slurmctld slurmd sbatch srun squeue sinfo scancel munged mungekey; do
	command -v "$bin" >/dev/null || missing+=("$bin")
done
if ((${#missing[@]})); then
	command -v apt-get >/dev/null || skip "no apt-get to install ${PACKAGES[*]} (missing: ${missing[*]})"
	say "installing ${PACKAGES[*]} (missing: ${missing[*]})"
	# No init script may start a system daemon during the install: the test starts its own.
	policy_rc=/usr/sbin/policy-rc.d
	made_policy=0
	if [[ ! -e $policy_rc ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy_rc"
		chmod 755 "$policy_rc"
		made_policy=1
	fi
	apt_log=$(mktemp /tmp/slurm-test-apt.XXXXXX.log)
	install_ok=1
	{ guarded 300 apt-get update -qq &&
		guarded 400 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${PACKAGES[@]}"; } >"$apt_log" 2>&1 || install_ok=0
	((made_policy)) && rm -f "$policy_rc"
	if ((!install_ok)); then
		tail -n 5 "$apt_log" || true
		skip "apt-get could not install ${PACKAGES[*]} (log: $apt_log)"
	fi
	rm -f "$apt_log"
fi
id munge >/dev/null 2>&1 || die "no 'munge' user after installing munge"

PY=${SLURM_TEST_PYTHON:-}
if [[ -z $PY ]]; then
	if [[ -x $REPO/.venv/bin/python ]]; then PY=$REPO/.venv/bin/python; else PY=$(command -v python3); fi
fi
"$PY" -c "import snakemake, snakemake_executor_plugin_slurm, numpy" ||
	die "$PY lacks snakemake, the SLURM executor plugin or numpy (run 'make install')"
say "python: $PY (snakemake $("$PY" -m snakemake --version 2>/dev/null | tail -n 1))"

# --- temp folder, teardown ------------------------------------------------------------------------
TMP=$(mktemp -d /tmp/slurm-test.XXXXXX)
chmod 755 "$TMP" # munged, as user munge, must reach its own folder inside
PIDS=() # daemons in start order; stopped in reverse
STEPD_BEFORE=" $(pgrep -x slurmstepd | tr '\n' ' ' || true) "
export SLURM_CONF=$TMP/slurm/slurm.conf
unset SNAKEMAKE_PROFILE

stop_pid() { # TERM, KILL after 15 s; only the PID given
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.5
	done
	kill -KILL "$pid" 2>/dev/null || true
}

teardown() {
	local rc=$?
	set +e
	trap - EXIT
	trap '' INT TERM # the teardown finishes; only KILL stops it
	exec 1>&3 2>&4
	# A command still running under `guarded` (only after a signal): its process group.
	[[ -n $GUARDED_PID ]] && kill -KILL -- "-$GUARDED_PID" 2>/dev/null
	if ((rc != 0)); then
		for f in "$TMP/munge/munged.log" "$TMP/slurm/slurmctld.log" "$TMP/slurm/slurmd.log"; do
			[[ -f $f ]] && { echo "--- tail of $f"; tail -n 25 "$f"; }
		done
	fi
	if ((${#PIDS[@]} == 3)); then
		# Jobs first, so that no slurmstepd outlives its slurmd.
		timeout -s KILL 20 scancel --quiet --partition "$PARTITION" 2>/dev/null
		# shellcheck disable=SC2016 # expanded by the inner bash
		timeout -s KILL 30 bash -c \
			'while [[ -n $(squeue -h -t running,completing -o %i 2>/dev/null) ]]; do sleep 1; done'
	fi
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
	for pid in $(pgrep -x slurmstepd); do
		[[ $STEPD_BEFORE == *" $pid "* ]] || stop_pid "$pid"
	done
	[[ -L $DEFAULT_CONF && $(readlink "$DEFAULT_CONF") == "$SLURM_CONF" ]] && rm -f "$DEFAULT_CONF"
	if [[ ${SLURM_TEST_KEEP:-0} == 1 ]]; then
		say "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	if ((rc == 0)); then
		say "total $((SECONDS - START_S)) s"
		echo "SLURM test passed"
	else
		echo "SLURM test FAILED (exit $rc)" >&2
	fi
	exit "$rc"
}
trap teardown EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# --- munge ------------------------------------------------------------------------------------------
MUNGE=$TMP/munge
# munged wants its socket folder searchable by all (711) and writable by no one else.
install -d -o munge -g munge -m 711 "$MUNGE"
setpriv --reuid=munge --regid=munge --init-groups mungekey --create --keyfile="$MUNGE/munge.key"
# setpriv execs, so $! is munged's own PID.
setpriv --reuid=munge --regid=munge --init-groups munged --foreground \
	--key-file="$MUNGE/munge.key" --socket="$MUNGE/munge.socket.2" --pid-file="$MUNGE/munged.pid" \
	--log-file="$MUNGE/munged.log" --seed-file="$MUNGE/munged.seed" </dev/null >/dev/null 2>&1 &
PIDS+=($!)
guarded 30 bash -c "until [[ -S '$MUNGE/munge.socket.2' ]]; do sleep 0.2; done" ||
	die "munged did not create its socket"
say "munged running as user munge (pid ${PIDS[0]})"

# --- slurm.conf -------------------------------------------------------------------------------------
NODE=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(free -m | awk '/^Mem:/ {print $2}')
mkdir -p "$TMP/slurm/state" "$TMP/slurm/spool"
cat >"$SLURM_CONF" <<EOF
# Single-node test cluster written by .ci/slurm_test.sh; lives and dies with $TMP.
ClusterName=snakemake-test
SlurmctldHost=$NODE(127.0.0.1)
# Ports away from the defaults (6817/6818), so that a real installation is never answered.
SlurmctldPort=16817
SlurmdPort=16818
# Daemons and jobs run as root here; SLURM refuses root jobs only with DisableRootJobs=YES.
SlurmUser=root
SlurmdUser=root
DisableRootJobs=NO
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE/munge.socket.2
StateSaveLocation=$TMP/slurm/state
SlurmdSpoolDir=$TMP/slurm/spool
SlurmctldPidFile=$TMP/slurm/slurmctld.pid
SlurmdPidFile=$TMP/slurm/slurmd.pid
SlurmctldLogFile=$TMP/slurm/slurmctld.log
SlurmdLogFile=$TMP/slurm/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: plain process tracking, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Accounting off (no slurmdbd, no sacct): job states come from squeue, which keeps a finished
# job for MinJobAge seconds (the executor wants >= 3 x its first status-check delay).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=300
ReturnToService=2
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
mkdir -p "$(dirname "$DEFAULT_CONF")"
ln -s "$SLURM_CONF" "$DEFAULT_CONF"

# --- slurmctld, slurmd --------------------------------------------------------------------------
slurmctld -D -i </dev/null >"$TMP/slurm/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -N "$NODE" </dev/null >"$TMP/slurm/slurmd.out" 2>&1 &
PIDS+=($!)
guarded 90 bash -c "until [[ \$(sinfo -h -N -n '$NODE' -o %T 2>/dev/null) == idle ]]; do sleep 1; done" ||
	die "node $NODE not idle within 90 s: $(timeout -s KILL 10 sinfo -N 2>&1 | tail -n 2)"
say "slurmctld (pid ${PIDS[1]}), slurmd (pid ${PIDS[2]}); node $NODE idle: $CPUS CPUs, $MEM_MB MB"

# --- working copies ---------------------------------------------------------------------------------
# A clone for its .git (provenance records the commit), overlaid with the working tree so that
# uncommitted changes are what is tested; the local run's copy is a byte copy of it (same tree,
# same commit). Results go to each copy's results/, inside the temp folder.
WC_SLURM=$TMP/wc_slurm
WC_LOCAL=$TMP/wc_local
git clone -q "$REPO" "$WC_SLURM"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -C "$WC_SLURM" -xf -
(cd "$REPO" && git ls-files -z --deleted) | (cd "$WC_SLURM" && xargs -0 -r rm -f --)
cp -a "$WC_SLURM" "$WC_LOCAL"
for target in "${TARGETS[@]}"; do
	grep -Rqs "^rule $target:" "$WC_SLURM/Snakefile" "$WC_SLURM/workflow/rules" ||
		die "target rule '$target' not found in the workflow"
done

# `smk COPY LIMIT_S ARGS...`: snakemake run in a working copy, with that copy's packages first on
# the path (SLURM jobs inherit it: sbatch --export=ALL).
smk() {
	local wc=$1 limit=$2
	shift 2
	guarded "$limit" env -C "$wc" PYTHONPATH="$wc" "$PY" -m snakemake "$@"
}

say "SLURM run: ${TARGETS[*]}"
t0=$SECONDS
smk "$WC_SLURM" 900 "${TARGETS[@]}" --workflow-profile profiles/slurm \
	--configfile config/quick.yaml >"$TMP/slurm_run.log" 2>&1 ||
	{ tail -n 40 "$TMP/slurm_run.log"; die "snakemake through SLURM failed"; }
SLURM_RUN_S=$((SECONDS - t0))
n_jobs=$(grep -c "has been submitted with SLURM jobid" "$TMP/slurm_run.log" || true)
((n_jobs > 0)) || { tail -n 40 "$TMP/slurm_run.log"; die "no job went through SLURM"; }
say "SLURM run done in ${SLURM_RUN_S} s: $n_jobs jobs submitted with sbatch"

say "local run: ${TARGETS[*]}"
t0=$SECONDS
smk "$WC_LOCAL" 900 "${TARGETS[@]}" --workflow-profile none --cores 2 \
	--configfile config/quick.yaml >"$TMP/local_run.log" 2>&1 ||
	{ tail -n 40 "$TMP/local_run.log"; die "local snakemake failed"; }
LOCAL_RUN_S=$((SECONDS - t0))
say "local run done in ${LOCAL_RUN_S} s"

guarded 120 "$PY" "$REPO/tests/compare_outputs.py" "$WC_SLURM/results" "$WC_LOCAL/results" ||
	die "SLURM and local outputs differ"

# --- a job forced to fail ---------------------------------------------------------------------------
say "failing job: condition '$FAILING_CONDITION' through SLURM"
BAD_TABLE=$TMP/conditions_with_failure.tsv
cp "$WC_SLURM/config/conditions.tsv" "$BAD_TABLE"
printf '%s\n' "$FAILING_ROW" >>"$BAD_TABLE"
t0=$SECONDS
fail_rc=0
smk "$WC_SLURM" 300 "$FAILING_TARGET" --workflow-profile profiles/slurm \
	--configfile config/quick.yaml --config "conditions=$BAD_TABLE" >"$TMP/fail_run.log" 2>&1 ||
	fail_rc=$?
FAIL_RUN_S=$((SECONDS - t0))
show_fail() { tail -n 40 "$TMP/fail_run.log"; }
((fail_rc != 0 && fail_rc != 137)) || { show_fail; die "snakemake exit $fail_rc for the failing job"; }
grep -q "Error in rule hh_simulate" "$TMP/fail_run.log" ||
	{ show_fail; die "snakemake did not report hh_simulate as failed"; }
grep -Eq "SLURM-job '[0-9]+' failed, SLURM status is: 'FAILED'" "$TMP/fail_run.log" ||
	{ show_fail; die "the failure did not come back from SLURM as FAILED"; }
grep -q "$FAILING_MESSAGE" "$TMP/fail_run.log" ||
	{ show_fail; die "the job's own error message did not reach the user"; }
leftovers=$(find "$WC_SLURM/results/hh/$FAILING_CONDITION" -type f 2>/dev/null || true)
[[ -z $leftovers ]] || die "the failed job left outputs behind: $leftovers"
# Nor does Snakemake's record count the job as done: a dry run schedules it again.
smk "$WC_SLURM" 120 "$FAILING_TARGET" --workflow-profile none --dry-run \
	--configfile config/quick.yaml --config "conditions=$BAD_TABLE" >"$TMP/fail_dry.log" 2>&1 ||
	{ tail -n 20 "$TMP/fail_dry.log"; die "the dry run after the failure failed"; }
grep -Eq "^hh_simulate +1$" "$TMP/fail_dry.log" ||
	{ tail -n 20 "$TMP/fail_dry.log"; die "after the failure, a dry run does not schedule it again"; }
say "failing job reported FAILED through SLURM in ${FAIL_RUN_S} s (snakemake exit $fail_rc), no output left"

say "timings: SLURM run ${SLURM_RUN_S} s, local run ${LOCAL_RUN_S} s, failing run ${FAIL_RUN_S} s"
