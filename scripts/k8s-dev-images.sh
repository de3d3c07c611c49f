#!/usr/bin/env bash
# Builds every image the dev overlay runs (chatbot-keys/<target>:dev) and loads them into the
# local cluster's nodes, which never pull them (k8s/overlays/dev: imagePullPolicy Never).
#
#   scripts/k8s-dev-images.sh                 # the cluster of the current kubectl context
#   scripts/k8s-dev-images.sh kind [name]     # kind (cluster name, default: kind)
#   scripts/k8s-dev-images.sh k3d [name]      # k3d (cluster name, default: k3s-default)
#   scripts/k8s-dev-images.sh minikube [profile]
#
# Run it again after a code change, then `kubectl -n chatbot-keys-dev rollout restart deployment`.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(gateway key-management auth-verifier usage-tracker demo-upstream migrate)
TAG=dev

# kind-<name>, k3d-<name> and minikube (or the profile's name) are the contexts these tools create.
detect() {
  local context
  context="$(kubectl config current-context 2>/dev/null || true)"
  case "$context" in
    kind-*) echo "kind ${context#kind-}" ;;
    k3d-*) echo "k3d ${context#k3d-}" ;;
    minikube) echo "minikube minikube" ;;
    *)
      if command -v minikube >/dev/null && minikube profile list -o json 2>/dev/null | grep -q "\"Name\":\"$context\""; then
        echo "minikube $context"
      else
        echo "cannot tell the local cluster from the kubectl context '$context': pass kind, k3d or minikube" >&2
        return 1
      fi ;;
  esac
}

if [ $# -ge 1 ]; then
  tool="$1"
  case "$tool" in
    kind) cluster="${2:-kind}" ;;
    k3d) cluster="${2:-k3s-default}" ;;
    minikube) cluster="${2:-minikube}" ;;
    *) echo "usage: $0 [kind|k3d|minikube] [cluster]" >&2; exit 2 ;;
  esac
else
  read -r tool cluster < <(detect)
fi
command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }

images=()
for target in "${TARGETS[@]}"; do
  image="chatbot-keys/$target:$TAG"
  echo "building $image"
  docker build --target "$target" -t "$image" .
  images+=("$image")
done

echo "loading ${#images[@]} images into $tool cluster $cluster"
case "$tool" in
  kind) kind load docker-image --name "$cluster" "${images[@]}" ;;
  k3d) k3d image import --cluster "$cluster" "${images[@]}" ;;
  minikube) for image in "${images[@]}"; do minikube --profile "$cluster" image load "$image"; done ;;
esac
echo "done: kubectl apply -k k8s/overlays/dev"
