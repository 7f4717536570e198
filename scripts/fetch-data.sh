#!/usr/bin/env bash
# Downloads the Debian packages that hold the sequence tasks' real data and extracts just the
# needed files into the data cache, mirroring their installed paths:
#   $EMBER_DATA/usr/share/dictd/gcide.dict.dz, $EMBER_DATA/usr/share/games/fortunes/de/..., ...
# The readers (data/sequence_datasets.h) look there, then at the same paths under / (packages
# installed with apt). Nothing is installed: `apt-get download` + `dpkg-deb -x` only, so packages
# that depend on R or Python (r-bioc-biostrings) bring no R or Python. Idempotent: a package whose
# files are already extracted is skipped. Sources and sizes: docs/DATASETS.md.
#
#   scripts/fetch-data.sh [all|text|genome|images]...   (default: all)
#   EMBER_DATA=/big/disk scripts/fetch-data.sh genome
set -euo pipefail

data="${EMBER_DATA:-$HOME/.cache/ember/data}"
groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(all)

# package | paths to keep (globs relative to the package root, space-separated)
text_packages=(
  "dict-gcide|usr/share/dictd/gcide.dict.dz"
  "fortunes|usr/share/games/fortunes"
  "fortunes-de|usr/share/games/fortunes/de"
  "fortunes-ru|usr/share/games/fortunes/ru"
  "fortunes-es|usr/share/games/fortunes/es"
  "fortunes-it|usr/share/games/fortunes/it"
  "fortunes-pl|usr/share/games/fortunes/pl"
  "fortunes-cs|usr/share/games/fortunes/cs"
  "fortunes-zh|usr/share/games/fortunes/chinese usr/share/games/fortunes/song100 usr/share/games/fortunes/tang300"
  "fortunes-br|usr/share/games/fortunes/brasil"
  "fortunes-eo|usr/share/games/fortunes/eo"
)
genome_packages=(
  "ragout-examples|usr/share/doc/ragout/examples/*/references"
  "augustus-doc|usr/share/doc/augustus/tutorial/data/chr2R.fa* usr/share/doc/augustus/tutorial/results/genes.gb*"
  "r-bioc-biostrings|usr/lib/R/site-library/Biostrings/extdata/dm3_upstream2000.fa.gz"
)
image_packages=(
  "dataset-fashion-mnist|usr/share/datasets/fashion-mnist"
)

selected=()
for g in "${groups[@]}"; do
  case "$g" in
    all) selected+=("${text_packages[@]}" "${genome_packages[@]}" "${image_packages[@]}") ;;
    text) selected+=("${text_packages[@]}") ;;
    genome) selected+=("${genome_packages[@]}") ;;
    images) selected+=("${image_packages[@]}") ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "fetch-data.sh: unknown group '$g' (expected all, text, genome or images)" >&2; exit 2 ;;
  esac
done

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || {
  echo "fetch-data.sh: needs apt-get and dpkg-deb (Debian or Ubuntu)" >&2
  exit 1
}

mkdir -p "$data/.stamps"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for entry in "${selected[@]}"; do
  package="${entry%%|*}"
  keep="${entry#*|}"
  stamp="$data/.stamps/$package"
  if [ -f "$stamp" ]; then
    echo "fetch-data.sh: $package already extracted (remove $stamp to fetch it again)"
    continue
  fi
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    echo "fetch-data.sh: $package is installed; the readers use its files under /"
    continue
  fi
  echo "fetch-data.sh: downloading $package"
  if ! (cd "$work" && apt-get download "$package" >/dev/null 2>"$work/apt.err"); then
    cat "$work/apt.err" >&2
    echo "fetch-data.sh: apt-get download $package failed (no network, or no 'apt-get update' yet?)" >&2
    exit 1
  fi
  deb="$(ls "$work"/"${package}"_*.deb | head -1)"
  rm -rf "$work/root"
  mkdir -p "$work/root"
  dpkg-deb -x "$deb" "$work/root"
  found=0
  for pattern in $keep; do
    # Globs are expanded inside the extracted package; copy each match to the same place in the cache.
    for path in $(cd "$work/root" && compgen -G "$pattern" || true); do
      mkdir -p "$data/$(dirname "$path")"
      cp -a "$work/root/$path" "$data/$(dirname "$path")/"
      found=1
    done
  done
  rm -f "$deb"
  if [ "$found" -eq 0 ]; then
    echo "fetch-data.sh: $package holds none of: $keep (has the package changed?)" >&2
    exit 1
  fi
  date -u +%FT%TZ > "$stamp"
done
echo "fetch-data.sh: data in $data ($(du -sh "$data" | cut -f1))"
