#!/usr/bin/env bash
# Run inside a fresh bench container (untimed): make it look like a fresh server of the site.
#
#   BENCH_USERS="bench01 bench02 ..."   PAM accounts for the hub measurements (password: <name>-pw)
#   BENCH_SSH_KEY="ssh-ed25519 ..."     also sshd and an `admin` account with sudo that this key logs in to
#
# The controller's CA certificates must already be in /usr/local/share/ca-certificates
# (bench/run.py copies them, as tests/harness/demo.yml does). At the end the apt package
# lists are removed, so that every measured install starts as on a fresh server: one
# `apt-get update`, then the installs.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq ca-certificates ${BENCH_SSH_KEY:+openssh-server} >/dev/null
update-ca-certificates >/dev/null 2>&1

if [[ -n ${BENCH_USERS:-} ]]; then
  for u in $BENCH_USERS; do
    id "$u" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$u"
    printf '%s:%s-pw\n' "$u" "$u"
  done | chpasswd
fi

if [[ -n ${BENCH_SSH_KEY:-} ]]; then
  id admin >/dev/null 2>&1 || useradd --create-home --shell /bin/bash admin
  install -d -m 0700 -o admin -g admin /home/admin/.ssh
  printf '%s\n' "$BENCH_SSH_KEY" > /home/admin/.ssh/authorized_keys
  chown admin:admin /home/admin/.ssh/authorized_keys
  chmod 0600 /home/admin/.ssh/authorized_keys
  printf 'admin ALL=(ALL) NOPASSWD: ALL\n' > /etc/sudoers.d/admin
  chmod 0440 /etc/sudoers.d/admin
  systemctl enable --now ssh >/dev/null 2>&1
fi

rm -rf /var/lib/apt/lists/*
