# shellcheck shell=bash
# Shared by the harness scripts (source it): how a systemd container is run here.

# `docker run` arguments and command for systemd as PID 1 from image bmjh/$1 (one per
# line, the image last). systemd >= 258 (Ubuntu 26.04) refuses the legacy (v1) hierarchy
# that a v1 or hybrid host such as CI's gives a container: it gets a cgroup namespace of
# its own and mounts the unified hierarchy there itself, rooted at its own cgroup (a bind
# mount of the host's /sys/fs/cgroup/unified boots too, but puts init outside the
# namespace's root, and journald then refuses to start). The molecule platforms say the same.
systemd_run_args() {
  printf '%s\n' --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
    --tmpfs /run --tmpfs /run/lock --stop-signal SIGRTMIN+3
  case $1 in
    ubuntu2604) printf '%s\n' --cgroupns=private "bmjh/$1:latest" \
                  /bin/sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec /sbin/init' ;;
    *) printf '%s\n' --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw "bmjh/$1:latest" /sbin/init ;;
  esac
}
