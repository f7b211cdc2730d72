# Sourced by the project's scripts: one cargo target directory for everything (outside
# the clone, like a CI cache, so a fresh clone does not rebuild the world), and a private
# XDG runtime dir so Mesa does not complain on headless machines.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/idlewatt-target}"
# No incremental compilation: CI builds each crate once, and the incremental caches of a
# workspace this size take ~9 GB of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -w "${XDG_RUNTIME_DIR}" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d /tmp/idlewatt-xdg.XXXXXX)"
  export XDG_RUNTIME_DIR
fi
