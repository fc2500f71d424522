#!/usr/bin/env bash
# Waits until first-boot provisioning finished (docs/host-contract.md, "Order of events", step 2): exits 0 on
# state=done in provision.sh's status file, 1 on state=failed (or when cloud-init finished without ever starting
# provision.sh), 124 on timeout, each failure with a clear message and the last 40 lines of the log on stderr.
# On success it ends with `HOST-FACTS mem_total_mb=N` (the memory the host really has: MemTotal, or the memory
# cgroup's limit when lower), which the deploy sizes the gateway's memory budget from.
#
# Not part of user data (so it can change without replacing the server): the deploy runs it over SSH as
#   sudo bash -s -- [TIMEOUT_SECONDS] < cloud-init/wait-provisioned.sh
# TIMEOUT_SECONDS: first argument, else $WAIT_TIMEOUT_SECONDS (the deploy sets it from provisionTimeoutMinutes), else
# 1800. Needs root for the log tail (0640).
# Overrides for tests: PROVISION_STATUS, PROVISION_LOG, PROVISION_POLL_SECONDS, CLOUD_INIT_RESULT, MEMINFO, CGROUP_ROOT.
set -euo pipefail

# The host contract (components/core/host-contract.ts): shared paths and names (HOST_*), written by user data and the
# push. A HOST_* variable already set in the environment wins (tests point them at sandboxes).
readonly CONTRACT_FILE="${OPENCLAW_VPS_CONTRACT:-/etc/openclaw-vps/contract.env}"
[[ -r $CONTRACT_FILE ]] || {
    echo "missing $CONTRACT_FILE (the host contract: user data and the push write it)" >&2
    exit 1
}
while IFS='=' read -r key value; do if [[ $key =~ ^HOST_[A-Z0-9_]+$ && -z ${!key-} ]]; then printf -v "$key" '%s' "$value"; fi; done <"$CONTRACT_FILE"

timeout_seconds="${1:-${WAIT_TIMEOUT_SECONDS:-1800}}"
status_file="${PROVISION_STATUS:-$HOST_PROVISION_STATUS}"
log_file="${PROVISION_LOG:-$HOST_PROVISION_LOG}"
poll_seconds="${PROVISION_POLL_SECONDS:-3}"
# cloud-init writes this when its last stage (the one whose runcmd starts provision.sh) is over.
cloud_init_result="${CLOUD_INIT_RESULT:-/run/cloud-init/result.json}"

if [[ ! $timeout_seconds =~ ^[0-9]+$ ]]; then
    echo "wait-provisioned: timeout must be a number of seconds, got '$timeout_seconds'" >&2
    exit 2
fi

meminfo="${MEMINFO:-/proc/meminfo}"
cgroup_root="${CGROUP_ROOT:-/sys/fs/cgroup}"

# MiB the host's processes can use: MemTotal, unless the memory cgroup this runs in (a container's root) caps it lower.
memory_mb() {
    local mb limit file
    mb=$(($(awk '$1 == "MemTotal:" { print $2 }' "$meminfo") / 1024))
    for file in "$cgroup_root/memory.max" "$cgroup_root/memory/memory.limit_in_bytes"; do
        limit=$(cat "$file" 2>/dev/null || true)
        if [[ $limit =~ ^[0-9]+$ ]] && ((limit / 1048576 < mb)); then mb=$((limit / 1048576)); fi
    done
    printf '%s' "$mb"
}

status_field() { # key: its value in the status file, empty when absent (provision.sh may not have started yet)
    if [[ -r $status_file ]]; then sed -n "s/^$1=//p" "$status_file" | tail -n 1; fi
}

show_log_tail() { # file
    if [[ -r $1 ]]; then
        echo "---- last 40 lines of $1 ----" >&2
        tail -n 40 "$1" >&2
        echo "----" >&2
    else
        echo "(cannot read $1: run as root)" >&2
    fi
}

echo "wait-provisioned: waiting up to ${timeout_seconds} s for $status_file to say state=done"
deadline=$((SECONDS + timeout_seconds))
last_seen=""
while :; do
    state="$(status_field state)"
    case $state in
        done)
            echo "wait-provisioned: provisioning done (updated $(status_field updated))"
            # What provision.sh found that needs a restart (needrestart was suspended while it ran).
            if [[ -r $log_file ]]; then grep -o 'needs a restart.*' "$log_file" | tail -n 2 | sed 's/^/wait-provisioned: /' || true; fi
            echo "HOST-FACTS mem_total_mb=$(memory_mb)"
            exit 0
            ;;
        failed)
            echo "wait-provisioned: provisioning FAILED at step $(status_field step) ($(status_field name))," \
                "updated $(status_field updated). Fix the cause, then rerun provision.sh or replace the server." >&2
            show_log_tail "$log_file"
            exit 1
            ;;
    esac
    if [[ ! -e $status_file && -e $cloud_init_result ]]; then
        echo "wait-provisioned: cloud-init finished but provision.sh never started (no $status_file)." >&2
        show_log_tail /var/log/cloud-init-output.log
        exit 1
    fi
    seen="$(status_field step) $(status_field name)"
    if [[ $seen != "$last_seen" && -n $state ]]; then
        echo "wait-provisioned: step $seen"
        last_seen=$seen
    fi
    if ((SECONDS >= deadline)); then
        echo "wait-provisioned: TIMED OUT after ${timeout_seconds} s; last status: step=$(status_field step)" \
            "name=$(status_field name) state=${state:-none} updated=$(status_field updated)" >&2
        show_log_tail "$log_file"
        exit 124
    fi
    sleep "$poll_seconds"
done
