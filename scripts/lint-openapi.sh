#!/usr/bin/env bash
# `npm run lint:openapi`: the OpenAPI document of a booted app (the one Swagger UI serves), written
# to a temporary file and checked twice: Redocly's recommended-strict ruleset (redocly.yaml), then
# Spectral's spectral:oas (.spectral.yaml). Either one's warning fails it. Needs a build.
set -euo pipefail
cd "$(dirname "$0")/.."
document=$(mktemp --suffix=.json)
trap 'rm -f "$document"' EXIT
node dist/app/cli/openapi-document.js "$document"
# No telemetry or update check: CI reaches no host but the package registries.
echo "== Redocly (recommended-strict)"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  node_modules/.bin/redocly lint --config redocly.yaml --format=stylish "$document"
# Spectral sends no telemetry; its ruleset is built in and the document has no remote $ref, so it
# reads nothing but these two files.
echo "== Spectral (spectral:oas)"
node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity=warn "$document"
