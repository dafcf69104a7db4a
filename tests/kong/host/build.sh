#!/usr/bin/env bash
# Builds the wasm host Kong 3.4-3.9 embed (nginx + ngx_wasm_module + the
# wasmtime C API) for the Kong e2e suite, into a cache outside the repository.
#
#   tests/kong/host/build.sh          build unless already built; print nginx's path
#   tests/kong/host/build.sh --path   only print where nginx is (built or not)
#
# Sources: KONG_HOST_SRC, a directory holding nginx-1.27.4.tar.gz and
# ngx_wasm_module-3bed278.tar.gz, else downloads from GitHub at the pinned
# commits. Either way a tarball is accepted only if the sha256 of its file
# tree (tree_sha256.py: paths, modes and contents, not the gzip bytes, which
# differ between exports of one commit) is the pinned one. The wasmtime C API
# comes from crates.io, pinned by wasmtime-c-api/Cargo.lock (--locked checks
# every crate's sha256). About 7 minutes on 2 cores; Debian packages it needs
# are installed if missing.
set -euo pipefail

NGINX_VERSION=1.27.4
NGINX_COMMIT=ecb809305e54ed15be9f620d56b19ff4e4be7db5 # tag release-1.27.4
NGINX_TREE=b85c5678207fe4837ec2a63e79d8e2c618dd47e9ae5466f5e9d824dc71ac7a9f
NGX_WASM_COMMIT=3bed27836bb402143c6cbde17994b1d11a1084bc # main, 2025-04-02
NGX_WASM_TREE=a2275a712ac34a3f729784f1a42f74e47d990c0545c31c4b1c6e7a967c014972

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KONG_HOST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jwt-guard/kong-host}
# One directory per recipe: a change to this script or the lock file builds
# afresh beside the old one instead of trusting it.
stamp=$(cat "$0" "$here/wasmtime-c-api/Cargo.toml" "$here/wasmtime-c-api/Cargo.lock" \
    "$here/tree_sha256.py" | sha256sum | cut -c1-16)
prefix=$cache/$stamp
nginx=$prefix/sbin/nginx

if [ "${1:-}" = --path ]; then
    echo "$nginx"
    exit 0
fi
if [ -x "$nginx" ] && [ -f "$prefix/.complete" ]; then
    echo "$nginx"
    exit 0
fi

say() { echo "kong-host: $*" >&2; }

missing=()
for pkg in build-essential libpcre2-dev zlib1g-dev libssl-dev cmake curl; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq "${missing[@]}" >&2
fi

work=$cache/build-$stamp
rm -rf "$work"
mkdir -p "$work"

# fetch NAME LOCAL_FILE URL TREE_SHA256 DEST: unpack a verified source tree.
fetch() {
    local name=$1 file=$2 url=$3 tree=$4 dest=$5 tarball
    if [ -n "${KONG_HOST_SRC:-}" ] && [ -f "$KONG_HOST_SRC/$file" ]; then
        tarball=$KONG_HOST_SRC/$file
        say "$name from $tarball"
    else
        tarball=$work/$file
        say "$name from $url"
        curl -fsSL --retry 3 -o "$tarball" "$url"
    fi
    local got
    got=$(python3 "$here/tree_sha256.py" "$tarball")
    if [ "$got" != "$tree" ]; then
        say "$name: tree sha256 $got, expected $tree: refusing $tarball"
        exit 1
    fi
    mkdir -p "$dest"
    tar xzf "$tarball" -C "$dest" --strip-components=1
}

fetch nginx "nginx-$NGINX_VERSION.tar.gz" \
    "https://github.com/nginx/nginx/archive/$NGINX_COMMIT.tar.gz" \
    "$NGINX_TREE" "$work/nginx"
fetch ngx_wasm_module "ngx_wasm_module-${NGX_WASM_COMMIT:0:7}.tar.gz" \
    "https://github.com/Kong/ngx_wasm_module/archive/$NGX_WASM_COMMIT.tar.gz" \
    "$NGX_WASM_TREE" "$work/ngx_wasm_module"

# The wasmtime C API as one static library.
say "wasmtime C API (cargo, several minutes)"
cp -r "$here/wasmtime-c-api" "$work/"
cargo build --release --locked --quiet \
    --manifest-path "$work/wasmtime-c-api/Cargo.toml" \
    --target-dir "$cache/cargo-target" >&2
lib=$work/wasmtime/lib
mkdir -p "$lib"
cp "$cache/cargo-target/release/libkong_host_wasmtime_c_api.a" "$lib/libwasmtime.a"

# Its headers from the crate's own install script: the copy its build script
# leaves in OUT_DIR lacks WASMTIME_FEATURE_WAT in conf.h, and nginx then fails
# to compile (wasmtime_wat2wasm undeclared). The features match Cargo.toml.
crate=$(cargo metadata --locked --format-version 1 \
    --manifest-path "$work/wasmtime-c-api/Cargo.toml" |
    python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "wasmtime-c-api-impl"))')
features=()
for f in wat wasi cache parallel_compilation cranelift async gc threads logging \
    addr2line demangle coredump profiling; do
    features+=("-DWASMTIME_FEATURE_${f^^}=ON")
done
cmake -DWASMTIME_DISABLE_ALL_FEATURES=ON "${features[@]}" \
    -DWASMTIME_HEADER_DST="$work/wasmtime/include" \
    -P "$(dirname "$crate")/cmake/install-headers.cmake" >/dev/null

say "nginx $NGINX_VERSION + ngx_wasm_module ${NGX_WASM_COMMIT:0:7}"
(
    cd "$work/nginx"
    export NGX_WASM_RUNTIME=wasmtime
    export NGX_WASM_RUNTIME_INC=$work/wasmtime/include
    export NGX_WASM_RUNTIME_LIB=$lib
    export NGX_WASM_RUNTIME_LD_OPT=$lib/libwasmtime.a
    auto/configure --prefix="$prefix" --with-debug --with-http_ssl_module \
        --add-module="$work/ngx_wasm_module" >"$work/configure.log" 2>&1 ||
        { tail -30 "$work/configure.log" >&2; exit 1; }
    make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
    rm -rf "$prefix"
    make install >>"$work/make.log" 2>&1
)
"$nginx" -V 2>&1 | grep -q ngx_wasm_module || { say "built nginx lacks ngx_wasm_module"; exit 1; }
touch "$prefix/.complete"
rm -rf "$work"
say "built $nginx"
echo "$nginx"
