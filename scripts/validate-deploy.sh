#!/usr/bin/env bash
# Deployment validation without a cluster or a container engine (docs/deploy.md):
#   - kustomize (kubectl's built-in) renders every overlay in deploy/k8s/overlays
#   - each object is validated against the Kubernetes / prometheus-operator / KEDA schemas
#     (kubernetes-models) and type-checked for unknown fields
#   - deployment policies (probes, grace periods, hardening, autoscaling vs partitions,
#     NetworkPolicy flows, env vars vs the services' config schemas, secrets)
#   - docker-compose.yml through `docker compose config` (or docker-compose) and the compose-spec schema
#   - the Dockerfile's workspace coverage, base image and user
# Needs: kubectl (with kustomize), docker compose or docker-compose; .ci/run installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=0
if ! kubectl kustomize --help > /dev/null 2>&1; then
  echo "validate-deploy: kubectl with built-in kustomize is required (not found)" >&2
  missing=1
fi
if ! docker compose version > /dev/null 2>&1 && ! docker-compose version > /dev/null 2>&1; then
  echo "validate-deploy: docker compose (plugin) or docker-compose is required; on Debian: apt-get install -y docker-compose" >&2
  missing=1
fi
[ "$missing" = 0 ] || exit 2

exec npx tsx deploy/validate/main.ts "$@"
