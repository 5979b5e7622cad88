# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# Installs what building and testing Palisade needs, each step skipped when already present
# (see shared/TOOLCHAIN.md for why each choice). Entry point: ensure_toolchain.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CARGO_LEPTOS_VERSION=0.3.11
# libssl-dev and pkg-config: webauthn-rs (passkeys) links OpenSSL.
APT_PACKAGES=(postgresql-15 postgresql-client-15 redis-server redis-tools chromium curl ca-certificates libssl-dev pkg-config)
# scripts/stack (the scale-out topology) and the `stack` step of scripts/test also need these.
APT_STACK=(nginx-light libnginx-mod-http-brotli-filter pgbouncer openssl jq)
# Debian's Rust 1.96 with std sources and a working rust-lld: builds the wasm std (path B)
# and is the only local rustc new enough to install cargo-leptos 0.3.11.
APT_DEBIAN_RUST=(rustc-web cargo-web rust-web-src lld-22)
WASM_TOOLCHAIN=""   # rustup | debian, set by ensure_wasm_target
APT_UPDATED=""

# ensure_apt [PACKAGE...]: install the missing ones (default: APT_PACKAGES).
ensure_apt() {
  (($#)) || set -- "${APT_PACKAGES[@]}"
  local p missing=() sudo=()
  for p; do
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == ii* ]] || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  ((EUID == 0)) || sudo=(sudo)
  log "apt: installing ${missing[*]}"
  if [[ -z $APT_UPDATED ]]; then "${sudo[@]}" apt-get update -qq; APT_UPDATED=1; fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

# Path A: rustup's wasm32 std. Path B (PALISADE_WASM_TOOLCHAIN=debian, or when rustup cannot
# fetch the target): Debian's Rust rebuilds std for wasm32 from source (-Zbuild-std).
ensure_wasm_target() {
  case ${PALISADE_WASM_TOOLCHAIN:-auto} in
    debian) WASM_TOOLCHAIN=debian ;;
    rustup|auto)
      if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
        WASM_TOOLCHAIN=rustup
      else
        log "rustup: adding wasm32-unknown-unknown (2 min limit)"
        if timeout 120 rustup target add wasm32-unknown-unknown; then
          WASM_TOOLCHAIN=rustup
        elif [[ ${PALISADE_WASM_TOOLCHAIN:-auto} == rustup ]]; then
          die "rustup could not add wasm32-unknown-unknown and PALISADE_WASM_TOOLCHAIN=rustup"
        else
          warn "rustup could not add wasm32-unknown-unknown: using Debian's Rust (path B)"
          WASM_TOOLCHAIN=debian
        fi
      fi ;;
    *) die "PALISADE_WASM_TOOLCHAIN must be auto, rustup or debian" ;;
  esac
  if [[ $WASM_TOOLCHAIN == debian ]]; then ensure_apt "${APT_DEBIAN_RUST[@]}"; fi
  info "wasm32 std: $WASM_TOOLCHAIN"
}

# leptos_cmd SUBCOMMAND [ARG...]: sets the array LEPTOS_CMD to the full cargo-leptos command
# line for the chosen path; run it with "${LEPTOS_CMD[@]}" (or exec it). The caller's own
# environment is not changed, so cargo fmt/clippy/test keep using rustup's toolchain.
#
# Path B needs -Zbuild-std for the wasm (lib) build only. cargo-leptos 0.3.11 has no env var
# for lib-cargo-args (its env overlay, src/config/dotenvs.rs, covers site/bin keys only), but
# `--lib-cargo-args` exists on build/serve/watch/test/end-to-end and goes only to the front
# cargo call (src/compile/front.rs; the server build gets bin-cargo-args). So: a CLI flag, no
# cargo shim. The `=` form keeps clap from reading the leading `-Z` as a flag. Caveat: the flag
# REPLACES any `lib-cargo-args` from Cargo.toml metadata (src/config/mod.rs), so if metadata
# ever sets some, append them here too. Never use `cargo leptos test` on path B (its lib tests
# are native and -Zbuild-std needs --target).
leptos_cmd() {
  local sub=${1:?leptos_cmd SUBCOMMAND}; shift
  if [[ $WASM_TOOLCHAIN == debian ]]; then
    # node_modules/.bin first, so npm's binaryen wasm-opt still wins over anything in /usr/bin.
    # shellcheck disable=SC2054  # the comma belongs to -Zbuild-std's value
    LEPTOS_CMD=(env "PATH=$E2E_DIR/node_modules/.bin:/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
      cargo leptos "$sub" --lib-cargo-args=-Zbuild-std=std,panic_abort "$@")
  else
    LEPTOS_CMD=(cargo leptos "$sub" "$@")
  fi
}

cargo_leptos_ok() { [[ $(cargo leptos --version 2>/dev/null) == *" $CARGO_LEPTOS_VERSION" ]]; }

ensure_cargo_leptos() {
  cargo_leptos_ok && return 0
  # Never race an install already running (two would fight over ~/.cargo/bin): wait for it.
  if pgrep -f 'cargo install .*cargo-leptos' >/dev/null; then
    log "cargo-leptos: waiting for the install already running"
    while pgrep -f 'cargo install .*cargo-leptos' >/dev/null; do sleep 10; done
    cargo_leptos_ok && return 0
  fi
  # 0.3.11 needs rustc >= 1.96: Debian's. A --debug build takes ~12 min instead of ~35 for
  # release (fat LTO) and runs fine; DEBUG=0 keeps the binary small.
  ensure_apt rustc-web cargo-web
  log "cargo-leptos: installing $CARGO_LEPTOS_VERSION (debug build, ~12 min)"
  PATH="/usr/bin:$PATH" CARGO_PROFILE_DEV_DEBUG=0 \
    /usr/bin/cargo install --locked --debug cargo-leptos --version "$CARGO_LEPTOS_VERSION"
  cargo_leptos_ok || die "cargo leptos --version is not $CARGO_LEPTOS_VERSION after install"
}

# lock_version CRATE: the highest version of CRATE in Cargo.lock (empty when absent).
lock_version() {
  awk -v want="\"$1\"" '/^\[\[package\]\]/ {name = ""}
                         /^name = / {name = $3}
                         /^version = / && name == want {gsub(/"/, "", $3); print $3}' \
    "$ROOT/Cargo.lock" 2>/dev/null | sort -V | tail -1
}

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly; with it on
# PATH cargo-leptos does not try to download one (GitHub is unreachable here).
ensure_wasm_bindgen() {
  local lock="$ROOT/Cargo.lock" want have
  if [[ ! -f $lock ]]; then
    [[ -f $ROOT/Cargo.toml ]] || { warn "no Cargo.toml yet: wasm-bindgen check skipped"; return 0; }
    (cd "$ROOT" && cargo generate-lockfile -q)
  fi
  want=$(lock_version wasm-bindgen)
  [[ -n $want ]] || { warn "Cargo.lock has no wasm-bindgen: check skipped"; return 0; }
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}') || true
  [[ $have == "$want" ]] && return 0
  log "wasm-bindgen-cli: installing $want (have: ${have:-none})"
  # No --locked: a locked dependency of the CLI is missing from the registry mirror.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install wasm-bindgen-cli --version "$want"
}

# sqlx-cli (`cargo sqlx prepare --check` in scripts/test) must match the sqlx crate in
# Cargo.lock: the offline data it writes and checks is versioned with the macros. Postgres and
# rustls only (the default features add MySQL, SQLite and native-tls, i.e. OpenSSL).
ensure_sqlx_cli() {
  local want have t0
  want=$(lock_version sqlx)
  [[ -n $want ]] || { warn "Cargo.lock has no sqlx: sqlx-cli skipped"; return 0; }
  have=$(cargo sqlx --version 2>/dev/null | awk '{print $2}') || true
  [[ $have == "$want" ]] && return 0
  log "sqlx-cli: installing $want (have: ${have:-none}, ~4 min)"
  t0=$SECONDS
  cargo install --locked sqlx-cli --version "$want" --no-default-features --features postgres,rustls
  info "sqlx-cli: installed in $((SECONDS - t0))s"
  [[ $(cargo sqlx --version 2>/dev/null | awk '{print $2}') == "$want" ]] ||
    die "cargo sqlx --version is not $want after install"
}

# end2end/node_modules: Playwright, MailDev, and binaryen's wasm-opt (npm's v132: Debian's
# binaryen 108 breaks hydration). Reinstalled only when package-lock.json changed.
ensure_npm() {
  local marker="$E2E_DIR/node_modules/.package-lock.json"
  if [[ ! -f $marker || $E2E_DIR/package-lock.json -nt $marker ]]; then
    log "npm ci (end2end/)"
    (cd "$E2E_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
  case ":$PATH:" in
    *":$E2E_DIR/node_modules/.bin:"*) ;;
    *) export PATH="$E2E_DIR/node_modules/.bin:$PATH" ;;
  esac
}

ensure_toolchain() {
  ensure_apt
  ensure_wasm_target
  ensure_cargo_leptos
  ensure_wasm_bindgen
  ensure_sqlx_cli
  ensure_npm
}
