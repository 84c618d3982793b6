#!/usr/bin/env bash
# Build the systemd base images the molecule scenarios and `make demo` run on.
#
# No image registry is reachable from the machines this runs on, so the images are
# made here: debootstrap a minimal root file system, then `docker import` it.
# An image is tagged with a hash of its recipe (this file), so it is rebuilt only
# when the recipe changes; the same image is also tagged `:latest` for molecule.
#
#   tests/harness/images.sh [debian12] [debian13] [ubuntu2404] [ubuntu2604]
#                                        (default: all four, in parallel)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
recipe_hash=$(sha256sum "$0" | cut -c1-12)
repo=bmjh
workdir=${BMJH_IMAGE_WORKDIR:-/var/tmp/bmjh-images}

# What every image holds besides the minbase variant: enough for systemd as PID 1
# and for Ansible to manage it.
include=systemd,systemd-sysv,python3,sudo,dbus

# Ubuntu's archive keyring is not packaged in Debian: take it from the Ubuntu archive,
# pinned by checksum.
ubuntu_keyring_deb=pool/main/u/ubuntu-keyring/ubuntu-keyring_2023.11.28.1_all.deb
ubuntu_keyring_sha256=36de43b15853ccae0028e9a767613770c704833f82586f28eb262f0311adb8a8

debian_mirror=${BMJH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ubuntu_mirror=${BMJH_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}

log() { printf '[images] %s\n' "$*" >&2; }

ensure_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v gpgv >/dev/null || missing+=(gpgv)
  command -v curl >/dev/null || missing+=(curl)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Two Ubuntu images build at once: each fetches into a folder of its own and renames the
# keyring into place, so that neither reads the other's half-written download.
ubuntu_keyring() {
  local dir=$workdir/ubuntu-keyring own
  if [[ ! -s $dir/ubuntu-archive-keyring.gpg ]]; then
    mkdir -p "$dir"
    # (Called in $(...), where set -e does not hold: each step says whether it failed.)
    own=$(mktemp -d "$dir/fetch.XXXXXX") || return 1
    curl -fsSL -o "$own/keyring.deb" "$ubuntu_mirror/$ubuntu_keyring_deb" || return 1
    echo "$ubuntu_keyring_sha256  $own/keyring.deb" | sha256sum -c --quiet - >&2 || return 1
    dpkg-deb -x "$own/keyring.deb" "$own/x" || return 1
    mv -f "$own/x/usr/share/keyrings/ubuntu-archive-keyring.gpg" "$dir/" || return 1
    rm -rf "$own"
  fi
  echo "$dir/ubuntu-archive-keyring.gpg"
}

# Make a debootstrapped tree behave as a container running systemd.
finish_rootfs() {
  local root=$1
  : > "$root/etc/machine-id"          # systemd makes a fresh one at each boot
  rm -f "$root/var/lib/dbus/machine-id"
  echo "bmjh" > "$root/etc/hostname"
  # Units that have nothing to do in a container and only slow boot or fail.
  for unit in getty.target console-getty.service systemd-firstboot.service \
              systemd-udevd.service systemd-udev-trigger.service \
              systemd-modules-load.service sys-kernel-config.mount \
              sys-kernel-debug.mount sys-kernel-tracing.mount \
              systemd-remount-fs.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
}

# Remove a build tree, never following a mount that a failed debootstrap left behind.
clean_rootfs() {
  local root=$1
  [[ -d $root ]] || return 0
  # findmnt exits 1 when nothing is mounted below root: that is no error here.
  { findmnt -Rrn -o TARGET "$root" 2>/dev/null || true; } | sort -r | xargs -r -n1 umount -l
  rm -rf --one-file-system "$root"
}

build() {
  local name=$1 tag=$repo/$1:$recipe_hash
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag is up to date"
    docker tag "$tag" "$repo/$name:latest"
    return 0
  fi
  local root=$workdir/$name-rootfs start=$SECONDS
  clean_rootfs "$root"; mkdir -p "$root"
  case $name in
    debian12|debian13)
      local suite; suite=$([[ $name == debian12 ]] && echo bookworm || echo trixie)
      debootstrap --variant=minbase --include="$include" "$suite" "$root" "$debian_mirror" >"$workdir/$name.log" 2>&1 \
        || { tail -20 "$workdir/$name.log" >&2; return 1; }
      cat > "$root/etc/apt/sources.list" <<SRC
deb $debian_mirror $suite main
deb $debian_mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
SRC
      ;;
    ubuntu2404|ubuntu2604)
      # universe as on a stock server: nodejs, npm and python3-venv live there.
      local suite keyring; suite=$([[ $name == ubuntu2404 ]] && echo noble || echo resolute)
      keyring=$(ubuntu_keyring) || { log "the Ubuntu archive keyring could not be fetched"; return 1; }
      debootstrap --variant=minbase --include="$include" --components=main,universe \
        --keyring="$keyring" "$suite" "$root" "$ubuntu_mirror" /usr/share/debootstrap/scripts/gutsy \
        >"$workdir/$name.log" 2>&1 || { tail -20 "$workdir/$name.log" >&2; return 1; }
      cat > "$root/etc/apt/sources.list" <<SRC
deb $ubuntu_mirror $suite main universe
deb $ubuntu_mirror $suite-updates main universe
deb $ubuntu_mirror $suite-security main universe
SRC
      ;;
    *) log "unknown image $name"; return 2 ;;
  esac
  finish_rootfs "$root"
  tar -C "$root" -c . | docker import \
      -c 'CMD ["/sbin/init"]' -c 'ENV container=docker' \
      -m "bmjh $name recipe $recipe_hash" - "$tag" >/dev/null
  docker tag "$tag" "$repo/$name:latest"
  clean_rootfs "$root"
  log "$tag built in $((SECONDS - start)) s"
}

main() {
  local names=("$@")
  ((${#names[@]})) || names=(debian12 debian13 ubuntu2404 ubuntu2604)
  "$here/docker.sh"
  ensure_tools
  mkdir -p "$workdir"
  local pids=() rc=0
  for n in "${names[@]}"; do build "$n" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

main "$@"
