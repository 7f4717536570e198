#!/usr/bin/env bash
# Configures (once) and builds a build directory: scripts/configure.sh BUILD_DIR [meson options...]
# Shared by run.sh, test.sh and bench.sh so every entry point builds the same way.
set -euo pipefail
build_dir="$1"
shift
if [ ! -f "$build_dir/build.ninja" ]; then
  # Warnings are errors unless the caller says otherwise (the sanitizer build does: GCC's
  # -Wmaybe-uninitialized misfires under -fsanitize inside libstdc++ headers).
  case " $* " in
    *" -Dwerror="*) meson setup "$build_dir" "$@" >/dev/null ;;
    *) meson setup "$build_dir" -Dwerror=true "$@" >/dev/null ;;
  esac
fi
jobs="${EMBER_BUILD_JOBS:-$(nproc)}"
if ! ninja -C "$build_dir" -j "$jobs" >"$build_dir/build.log" 2>&1; then
  tail -60 "$build_dir/build.log"
  echo "build failed (full log: $build_dir/build.log)" >&2
  exit 1
fi
