# Shared by the Scripts: install missing Debian packages, quietly, once.
# shellcheck shell=bash

# ensure_packages PKG... : apt-get install whatever of PKG is not installed yet.
ensure_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "dnsprop: installing ${missing[*]} (apt-get)" >&2
    if [ -z "${DNSPROP_APT_UPDATED:-}" ]; then
        $sudo apt-get update -qq >&2
        export DNSPROP_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The C libraries dnsprop links against.
BUILD_PACKAGES=(libldns-dev libidn2-dev pkg-config)
# The release build links the Swift standard library and Foundation statically, as the .deb
# does: dynamic linking of Swift's libraries took 18 ms of CPU at every start (perf stat of
# `dnsprop --version`: 35.5 ms dynamic, 17.2 ms static). Static FoundationNetworking needs
# libcurl's development files.
RELEASE_PACKAGES=(libcurl4-openssl-dev)
RELEASE_BUILD=(swift build -c release --static-swift-stdlib --product dnsprop)
