#!/usr/bin/env bash
# Is the deployment healthy? The webserver answers, and the daemon's heartbeats are fresh.
# Exit 0 and one line when both are; exit 1 and one line naming the unhealthy part(s).
#
#   deploy/healthcheck.sh [--env-file FILE] [--url URL] [--max-heartbeat-age SECONDS]
#
# --env-file  the services' environment file (default /etc/probation-pipeline/probation.env;
#             skipped when absent, the caller's environment then applies): the daemon check
#             opens the Dagster instance, so it needs DAGSTER_HOME and, on PostgreSQL, the
#             DAGSTER_PG_* variables. Run it as the service user (or root): DAGSTER_HOME is theirs.
# --url       the webserver (default http://127.0.0.1:3000); its /server_info must answer.
# --max-heartbeat-age  how old (in seconds) the newest heartbeat of each daemon (scheduler,
#             sensors, run queue, backfills, run monitoring...) may be, beyond Dagster's 30 s
#             heartbeat interval (default 300). Checked with `dagster-daemon liveness-check`,
#             whose own default tolerance is 1,800 s.
#
# From a monitoring agent or a timer: `sudo -u probation /opt/probation-pipeline/deploy/healthcheck.sh`.
set -uo pipefail

env_file=/etc/probation-pipeline/probation.env
url=http://127.0.0.1:3000
max_age=300
while [ $# -gt 0 ]; do
    case $1 in
        --env-file) env_file=${2:?--env-file needs a file}; shift 2 ;;
        --url) url=${2:?--url needs a URL}; shift 2 ;;
        --max-heartbeat-age) max_age=${2:?--max-heartbeat-age needs seconds}; shift 2 ;;
        -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unhealthy: usage: unknown argument $1 (see --help)"; exit 1 ;;
    esac
done
case $max_age in '' | *[!0-9]*) echo "unhealthy: usage: --max-heartbeat-age $max_age: not a number of seconds"; exit 1 ;; esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
daemon_cli=$root/.venv/bin/dagster-daemon

# systemd's EnvironmentFile= syntax (NAME=value, # comments), read without shell expansion so
# that a password with $ or spaces means the same here as in the services.
if [ -f "$env_file" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line#"${line%%[![:space:]]*}"}
        case $line in '' | '#'* | ';'*) continue ;; esac
        name=${line%%=*}
        value=${line#*=}
        [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
        export "$name=$value"
    done <"$env_file"
elif [ "$env_file" != /etc/probation-pipeline/probation.env ]; then
    echo "unhealthy: usage: --env-file $env_file does not exist"
    exit 1
fi

problems=()

# The webserver: /server_info answers with its version (and Dagster's) as JSON.
if answer=$(curl -fsS --max-time 10 "${url%/}/server_info" 2>&1); then
    version=$(sed -n 's/.*"dagster_webserver_version": *"\([^"]*\)".*/\1/p' <<<"$answer")
    webserver="webserver ${url%/} answers (dagster-webserver ${version:-?})"
else
    problems+=("webserver: ${url%/}/server_info does not answer (${answer//$'\n'/ })")
fi

# The daemon: every daemon the instance needs has a heartbeat younger than max_age (+30 s).
if [ -z "${DAGSTER_HOME:-}" ]; then
    problems+=("daemon: cannot check, DAGSTER_HOME is not set (--env-file)")
elif [ ! -x "$daemon_cli" ]; then
    problems+=("daemon: cannot check, $daemon_cli is missing (make setup)")
elif verdict=$(DAGSTER_DAEMON_HEARTBEAT_TOLERANCE=$max_age timeout 60 "$daemon_cli" liveness-check 2>&1); then
    daemon="daemon heartbeats fresh (within ${max_age} s)"
else
    last=$(tail -n 1 <<<"$verdict")
    problems+=("daemon: no fresh heartbeat from every daemon within ${max_age} s in the instance at $DAGSTER_HOME (dagster-daemon liveness-check: ${last:-timed out})")
fi

if [ ${#problems[@]} -eq 0 ]; then
    echo "healthy: $webserver; $daemon"
    exit 0
fi
joined=$(printf '; %s' "${problems[@]}")
echo "unhealthy: ${joined:2}"
exit 1
