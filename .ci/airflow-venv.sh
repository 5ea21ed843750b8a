#!/usr/bin/env bash
# Create (or repair) the separate virtualenv that holds Apache Airflow 3 for the tests that
# load generated DAG files with Airflow's own DagBag. Airflow's pins clash with the project's,
# so it never goes into .venv. Idempotent: a venv that imports Airflow and carries the stamp of
# the current requirement set is left alone.
#
#   bash .ci/airflow-venv.sh          # prints the venv's python path on stdout, logs on stderr
#   PY=$(bash .ci/airflow-venv.sh)
#
# Environment:
#   PIPEC_AIRFLOW_VENV     venv folder; relative paths are taken from the repository root
#                          (default .venv-airflow)
#   PIPEC_AIRFLOW_PYTHON   interpreter to build it with (default python3)
#   PIPEC_AIRFLOW_VERSION  Airflow version to install (default: the pinned one below). Another
#                          version is installed without the pinned constraint set.
#   PIPEC_AIRFLOW_NO_K8S=1 skip apache-airflow-providers-cncf-kubernetes
#
# The constraint set below plays the part of Airflow's official constraints file (which lives
# on GitHub, out of reach here): the exact set this Airflow version was tested with. Regenerate
# it with `"$PY" -m pip freeze | grep -v '^pip=='` after bumping the pins.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PIPEC_AIRFLOW_VENV:-.venv-airflow}"
case "$venv" in
  /*) ;;
  *) venv="$repo_root/$venv" ;;
esac
base_python="${PIPEC_AIRFLOW_PYTHON:-python3}"

pinned_airflow="3.3.2"
airflow_version="${PIPEC_AIRFLOW_VERSION:-$pinned_airflow}"
requirements=(
  "apache-airflow==${airflow_version}"
  "apache-airflow-providers-standard>=1.13"
)
if [ "${PIPEC_AIRFLOW_NO_K8S:-0}" != "1" ]; then
  requirements+=("apache-airflow-providers-cncf-kubernetes")
fi

constraints_text() {
  cat <<'CONSTRAINTS'
a2wsgi==1.10.10
aiofiles==25.1.0
aiohappyeyeballs==2.7.1
aiohttp==3.14.5
aiosignal==1.4.0
aiosmtplib==5.1.3
aiosqlite==0.22.1
alembic==1.20.1
annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
apache-airflow==3.3.2
apache-airflow-core==3.3.2
apache-airflow-providers-cncf-kubernetes==10.25.0
apache-airflow-providers-common-compat==1.23.0
apache-airflow-providers-common-io==1.11.0
apache-airflow-providers-common-sql==2.4.0
apache-airflow-providers-smtp==3.2.0
apache-airflow-providers-standard==1.21.0
apache-airflow-task-sdk==1.3.2
argcomplete==3.7.2
arrow==1.4.0
asgiref==3.13.0
attrs==26.1.0
babel==2.18.0
cachetools==8.0.2
cadwyn==7.0.0
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
click==8.5.1
colorlog==6.12.0
cron_descriptor==2.2.1
croniter==7.0.0
cryptography==50.0.2
Deprecated==1.3.1
dill==0.4.1
dnspython==2.9.2
durationpy==0.11
email-validator==2.4.0
fastapi==0.136.3
fastapi-cli==0.0.34
frozenlist==1.8.0
fsspec==2026.9.0
googleapis-common-protos==1.76.0
greenback==1.3.0
greenlet==3.5.6
grpcio==1.85.3
h11==0.16.0
httpcore==1.0.9
httptools==0.9.0
httpx==0.28.1
idna==3.20
importlib_metadata==10.2.0
isoduration==20.11.0
itsdangerous==2.2.0
Jinja2==3.1.6
jsonschema==4.26.0
jsonschema-specifications==2025.9.1
kubernetes==36.0.3
kubernetes_asyncio==36.1.0
lazy-importer==0.1.0
lazy-object-proxy==1.13.0
libcst==1.9.0
linkify-it-py==2.2.0
lockfile==0.12.2
Mako==1.4.3
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
methodtools==0.4.7
more-itertools==11.2.1
msgspec==0.22.0
multidict==7.2.1
natsort==8.4.0
oauthlib==4.0.1
opentelemetry-api==1.45.2
opentelemetry-exporter-http-transport==0.66b2
opentelemetry-exporter-otlp==1.45.2
opentelemetry-exporter-otlp-common==0.66b2
opentelemetry-exporter-otlp-proto-common==1.45.2
opentelemetry-exporter-otlp-proto-grpc==1.45.2
opentelemetry-exporter-otlp-proto-http==1.45.2
opentelemetry-proto==1.45.2
opentelemetry-sdk==1.45.2
opentelemetry-semantic-conventions==0.66b2
outcome==1.3.0.post0
packaging==26.4
pathlib_abc==0.5.2
pathspec==1.1.1
pendulum==3.3.0
pluggy==1.7.0
propcache==0.5.4
protobuf==7.36.2
psutil==7.2.2
pycparser==3.12
pydantic==2.14.4
pydantic-extra-types==2.11.1
pydantic-settings==2.16.3
pydantic_core==2.50.5
Pygments==2.21.0
pygtrie==2.6.2
PyJWT==2.15.1
python-daemon==3.1.2
python-dateutil==4.0.0
python-dotenv==1.2.4
python-multipart==0.0.34
python-slugify==9.2.0
PyYAML==6.0.4
referencing==0.37.0
requests==2.34.2
requests-oauthlib==2.0.0
rich==15.0.0
rich-argparse==1.8.0
rich-toolkit==0.20.6
rpds-py==2026.9.1
setproctitle==1.3.8
shellingham==1.5.4
six==1.17.0
sniffio==1.3.1
SQLAlchemy==2.1.9
sqlparse==0.6.1
starlette==1.10.0
structlog==26.1.0
svcs==26.2.0
tabulate==0.10.0
tenacity==9.2.1
termcolor==3.3.0
text-unidecode==1.3
typer==0.29.2
typing-inspection==0.4.5
typing_extensions==4.16.0
tzdata==2026.6
universal_pathlib==0.3.10
urllib3==2.8.0
uuid6==2025.0.1
uvicorn==0.54.0
uvloop==0.23.0
watchfiles==1.3.0
websocket-client==1.9.2
websockets==17.4
wirerope==1.0.0
wrapt==2.5.2
yarl==1.25.1
zipp==4.1.2
CONSTRAINTS
}

log() { printf 'airflow-venv: %s\n' "$*" >&2; }

stamp_file="$venv/.pipec-airflow-stamp"
stamp="$( { printf '%s\n' "${requirements[@]}"; constraints_text; } | sha256sum | cut -d' ' -f1)"
py="$venv/bin/python"

healthy() {
  [ -x "$py" ] || return 1
  "$py" - <<'PY' >/dev/null 2>&1 || return 1
import atexit, os, shutil, tempfile
home = tempfile.mkdtemp(prefix="pipec-airflow-check-")
atexit.register(shutil.rmtree, home, True)
os.environ["AIRFLOW_HOME"] = home
import airflow
assert airflow.__version__.split(".")[0] == "3", airflow.__version__
from airflow.sdk import DAG  # noqa: F401
from airflow.providers.standard.operators.bash import BashOperator  # noqa: F401
from airflow.providers.standard.operators.hitl import ApprovalOperator  # noqa: F401
PY
}

if healthy && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  log "up to date: $venv"
  printf '%s\n' "$py"
  exit 0
fi

start=$(date +%s)
if ! "$py" -c 'import sys' >/dev/null 2>&1; then
  log "creating $venv with $base_python"
  rm -rf "$venv"
  "$base_python" -m venv "$venv"
  # A current pip resolves this dependency set several times faster than an old bundled one.
  "$py" -m pip install --disable-pip-version-check --no-input -q --upgrade pip >&2 ||
    log "could not upgrade pip; going on with $("$py" -m pip --version)"
fi

pip_install() {
  "$py" -m pip install --disable-pip-version-check --no-input --progress-bar off -q "$@" >&2
}

if [ "$airflow_version" = "$pinned_airflow" ]; then
  constraints="$(mktemp)"
  trap 'rm -f "$constraints"' EXIT
  constraints_text >"$constraints"
  log "installing ${requirements[*]} (pinned constraint set)"
  if ! pip_install -c "$constraints" "${requirements[@]}"; then
    log "the pinned constraint set did not install; retrying with the top-level pins only"
    pip_install "${requirements[@]}"
  fi
else
  log "installing ${requirements[*]} (no constraint set for this version)"
  pip_install "${requirements[@]}"
fi

if ! healthy; then
  log "Airflow does not import from $venv"
  exit 1
fi
printf '%s\n' "$stamp" >"$stamp_file"
log "ready in $(( $(date +%s) - start ))s: $("$py" -c 'import airflow; print("apache-airflow", airflow.__version__)' 2>/dev/null)"
printf '%s\n' "$py"
