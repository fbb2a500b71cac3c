# Shared by scripts/*: repo root, logging, and the static build.
# shellcheck shell=bash
set -euo pipefail
# A failing command inside $(...) fails the script too (bash drops -e
# there otherwise: a broken static build once went unnoticed).
shopt -s inherit_errexit
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
MUSL=x86_64-unknown-linux-musl

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages, installed only when a command is missing.
need_pkgs() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*} pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Builds the static binary and prints its path. musl first; if that target
# cannot be installed, glibc with crt-static (no NSS is used, so it is safe).
build_static() {
  if ! rustup target list --installed 2>/dev/null | grep -qx "$MUSL"; then
    say "installing the Rust target $MUSL"
    rustup target add "$MUSL" >&2 || true
  fi
  if rustup target list --installed 2>/dev/null | grep -qx "$MUSL"; then
    cargo build --release --locked -p bgpbox --target "$MUSL" >&2 || return 1
    echo "$ROOT/target/$MUSL/release/bgpbox"
  else
    say "no musl target: building a static glibc binary instead"
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -p bgpbox \
      --target x86_64-unknown-linux-gnu >&2 || return 1
    echo "$ROOT/target/x86_64-unknown-linux-gnu/release/bgpbox"
  fi
}

# An LXD daemon that answers: Debian's lxd started in the background if
# none does (no systemd needed).
ensure_lxd() {
  lxc query /1.0 >/dev/null 2>&1 && return 0
  say "starting lxd"
  setsid lxd --group root </dev/null >/tmp/bgpbox-lxd.log 2>&1 &
  lxd waitready --timeout 60
}

# Incus, for running the LXD tests against it too: from the distribution,
# or on Debian 12 from bookworm-backports, added from the mirror this
# machine already uses. Returns 1 (and says why) where it cannot be had.
ensure_incus() {
  [ -x /usr/libexec/incus/incusd ] && command -v incus >/dev/null 2>&1 && return 0
  local codename mirror
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  # (Not `apt-cache ... | grep -q`: with pipefail, grep's early exit
  # fails the pipe.)
  candidate() { grep -q 'Candidate: [0-9]' <<<"$(apt-cache policy incus 2>/dev/null || true)"; }
  if ! candidate && [ -n "$codename" ]; then
    mirror=$(grep -hoE '^URIs: *http[^ ]*debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | sed 's/^URIs: *//')
    [ -n "$mirror" ] || mirror=$(grep -hoE '^deb +http[^ ]*debian/? ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
    if [ -z "$mirror" ]; then
      say "no Debian mirror configured to add $codename-backports from: Incus skipped"
      return 1
    fi
    say "adding $codename-backports from $mirror (for Incus)"
    printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" "$codename" | as_root tee /etc/apt/sources.list.d/bgpbox-backports.sources >/dev/null
    as_root apt-get update -qq || true
  fi
  if ! candidate; then
    say "Incus is not available from this machine's package sources: skipped"
    return 1
  fi
  say "installing incus"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -t "$codename-backports" incus >/dev/null 2>&1 ||
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends incus >/dev/null
}
