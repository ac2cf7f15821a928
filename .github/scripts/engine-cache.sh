#!/usr/bin/env bash
# Keep what is expensive between CI runs: a shard's built images (docker save) and their
# std/cargo cache volumes, compressed with zstd into one folder that actions/cache stores.
#
#   engine-cache.sh save DIR SHARD   # after a run: the shard's images and volumes into DIR
#   engine-cache.sh load DIR         # before a run: DIR back into the engine
#
# The images keep their ids through save/load, so their content-hash tags and the volumes named
# after those ids and their releases (linkmatrix-cache-<id>-<release>) still match what the next
# run computes.
set -euo pipefail

action="$1"
dir="$2"
base="$(python -c 'import yaml; print(yaml.safe_load(open("matrix.yaml"))["base"]["tag"])')"

save() {
  local shard="$1"
  rm -rf "$dir" && mkdir -p "$dir"
  python -m orchestrator images --present --shard "$shard" > "$dir/images.txt"
  # shellcheck disable=SC2046 # one tag per line, no spaces in tags
  docker save $(cat "$dir/images.txt") | zstd -T0 -3 -q -o "$dir/images.tar.zst"
  python -m orchestrator images --volumes --shard "$shard" > "$dir/volumes.txt"
  while read -r volume; do
    docker run --rm --network none -v "$volume:/v:ro" "$base" \
      tar -C /v --numeric-owner -cf - . | zstd -T0 -3 -q -o "$dir/$volume.tar.zst"
  done < "$dir/volumes.txt"
  du -sh "$dir"/*
}

load() {
  zstd -dc "$dir/images.tar.zst" | docker load
  while read -r volume; do
    docker volume create "$volume" > /dev/null
    zstd -dc "$dir/$volume.tar.zst" \
      | docker run --rm -i --network none -v "$volume:/v" "$base" tar -C /v --numeric-owner -xf -
  done < "$dir/volumes.txt"
}

case "$action" in
  save) save "$3" ;;
  load) load ;;
  *) echo "usage: $0 save DIR SHARD | load DIR" >&2; exit 2 ;;
esac
