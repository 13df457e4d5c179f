# tools/deps.sh: install the Debian/Ubuntu packages GoChat needs, if missing.
# Sourced by tools/run and tools/test; works as root or through sudo.

gochat_build_packages=(
  build-essential pkg-config meson ninja-build
  libglib2.0-dev libglib2.0-bin libgtk-4-dev libgtk-4-bin libadwaita-1-dev
  libsoup-3.0-dev libjson-glib-dev glib-networking ca-certificates
  gettext appstream desktop-file-utils
  libhiredis-dev
)
# Only the test suite needs these: a display for GUI tests, a session bus,
# an independent WebSocket implementation, clang for the fuzzers, and
# redis-server for the tests of several nodes sharing rooms (--redis),
# promtool (in prometheus) to lint /metrics.
gochat_test_packages=(
  xvfb xauth dbus xdotool python3 python3-websockets clang libclang-rt-14-dev
  redis-server prometheus
)

gochat_install_packages () {
  local missing=() pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0

  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  echo "Installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q >/dev/null
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures (or reconfigures) a build directory with the given options.
gochat_setup () {
  local dir=$1; shift
  if [[ -f "$dir/build.ninja" ]]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}
