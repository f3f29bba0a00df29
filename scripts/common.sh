# scripts/common.sh — shared by scripts/run and scripts/test (sourced, not run).
#
# cairn_install_deps: installs the Debian packages cairn needs that are missing, running
#   apt-get update first only when something must be installed.
# cairn_build DIR [MESON_OPTIONS...]: configures DIR (once) and builds it, warnings as errors.

CAIRN_PACKAGES=(meson ninja-build pkg-config gcc libmsgpack-dev check libxxhash-dev
                libreadline-dev clang-format tmux)

cairn_install_deps() {
    local missing=() pkg
    for pkg in "${CAIRN_PACKAGES[@]}" "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null || return 1
}

cairn_build() {
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 || {
            cat "$dir.setup.log"
            return 1
        }
        rm -f "$dir.setup.log"
    fi
    ninja -C "$dir" >/dev/null || ninja -C "$dir"
}
