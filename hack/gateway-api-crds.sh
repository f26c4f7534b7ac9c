#!/usr/bin/env bash
# gateway-api-crds.sh copies the Gateway API standard-channel install (CRDs and the
# safe-upgrades ValidatingAdmissionPolicy) of the sigs.k8s.io/gateway-api version in go.mod
# from the Go module cache into the install manifests:
#
#   manifests/gateway-api/                     every file of config/crd/standard, plus a
#                                              kustomization.yaml listing them
#   manifests/charts/gatebridge/crds/          the Gateway API CRDs and ours (manifests/crds)
#   manifests/charts/gatebridge/files/gateway-api/  the ValidatingAdmissionPolicy (not a CRD:
#                                              Helm's crds/ holds CRDs only; a template renders it)
#
# Run it after changing the gateway-api version in go.mod or regenerating manifests/crds.
# test/install checks that the copies equal their sources.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local GOWORK=off

src="$(go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)/config/crd/standard"
[ -d "$src" ] || { echo "gateway-api-crds.sh: no $src (go mod download?)" >&2; exit 1; }
version="$(go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api)"

out=manifests/gateway-api
chart=manifests/charts/gatebridge
rm -f "$out"/*.yaml "$chart"/crds/*.yaml "$chart"/files/gateway-api/*.yaml
mkdir -p "$out" "$chart/crds" "$chart/files/gateway-api"

{
  echo "# Gateway API $version, standard channel: copied from the Go module by hack/gateway-api-crds.sh."
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
} > "$out/kustomization.yaml"
for f in "$src"/*.yaml; do
  name="$(basename "$f")"
  [ "$name" = kustomization.yaml ] && continue
  install -m 0644 "$f" "$out/$name"
  echo "  - $name" >> "$out/kustomization.yaml"
  case "$name" in
    *_vap_*) install -m 0644 "$f" "$chart/files/gateway-api/$name" ;;
    *)       install -m 0644 "$f" "$chart/crds/$name" ;;
  esac
done
for f in manifests/crds/*.yaml; do
  install -m 0644 "$f" "$chart/crds/$(basename "$f")"
done
echo "gateway-api-crds.sh: Gateway API $version copied into $out and $chart" >&2
