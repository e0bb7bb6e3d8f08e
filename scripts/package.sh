#!/usr/bin/env bash
# Package stage: builds the .deb and .tar.gz with cpack (in ./build), installs
# the .deb with apt (dependencies come from Debian), runs the installed tool,
# its man page and its bash completion, then removes the package again.
# Usage: scripts/package.sh   (after scripts/setup.sh has built ./build)
set -euo pipefail
cd "$(dirname "$0")/.."

ninja -C build flink-savepoint fsp_docs
(cd build && cpack -G "DEB;TGZ" >/dev/null)
deb=$(ls build/flink-savepoint_*.deb | head -1)
tgz=$(ls build/flink-savepoint_*.tar.gz | head -1)
echo "package: built $deb and $tgz"
dpkg-deb -I "$deb" | sed -n 's/^ \(Package\|Version\|Depends\):/  \1:/p'
dpkg-deb -c "$deb" | awk '{print "  " $6}' | grep -E 'bin/flink-savepoint$|man1/flink-savepoint-inspect.1|completions/flink-savepoint$' 

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq "./$deb" >/dev/null
trap '$SUDO dpkg -r flink-savepoint >/dev/null 2>&1 || true' EXIT

/usr/bin/flink-savepoint --version
/usr/bin/flink-savepoint inspect testdata/sample-savepoint >/dev/null
MANWIDTH=80 man flink-savepoint-inspect | grep -q "flink-savepoint-inspect"
MANWIDTH=80 man flink-savepoint | grep -q "COMMANDS"
bash -n /usr/share/bash-completion/completions/flink-savepoint
bash -c 'source /usr/share/bash-completion/completions/flink-savepoint; COMP_WORDS=(flink-savepoint ins); COMP_CWORD=1; _flink_savepoint; [ "${COMPREPLY[*]}" = inspect ]'
test -f /usr/share/zsh/vendor-completions/_flink-savepoint
test -f /usr/share/fish/vendor_completions.d/flink-savepoint.fish
test -f /usr/share/doc/flink-savepoint/README.md
echo "package: installed .deb works (--version, inspect, man flink-savepoint-inspect, bash completion)"
