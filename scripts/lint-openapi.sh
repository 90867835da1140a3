#!/usr/bin/env bash
# `npm run lint:openapi`: the OpenAPI document of a booted app (the one Swagger UI serves), written
# to a temporary file and checked with Redocly's recommended ruleset (redocly.yaml). Needs a build.
set -euo pipefail
cd "$(dirname "$0")/.."
document=$(mktemp --suffix=.json)
trap 'rm -f "$document"' EXIT
node dist/app/cli/openapi-document.js "$document"
# No telemetry or update check: CI reaches no host but the package registries.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  node_modules/.bin/redocly lint --config redocly.yaml --format=stylish "$document"
