"""A throwaway systemd as PID 1, in namespaces, for tests and the quickstart.

DESIGN.md section 5: `unshare --pid --fork --mount --uts --ipc --net
--propagation private`, then inside: proc, tmpfs on /run and /tmp, the built
generator in /run/systemd/system-generators/, the unit templates in
/run/systemd/system/, a volatile journal, a boot target that wants only the
journal and apps.target, and `exec systemd --system`.  /etc/supervisor.d is a
host directory bind-mounted in, so booting twice with the same directory is a
reboot.  Nothing lands on the host.

Box(..., unitcorn=PATH) copies the built server into the stage and gives
the generator UNITCORN_BINDIR= (PID 1's DefaultEnvironment=, which reaches
generators), so gunicorn commands run that unitcorn; service_env={...} sets
Environment= for every app@ instance (a drop-in on the template).
Box(..., srv=True) also shows the stage at /srv/unitcorn-box (over a tmpfs
on /srv, in the box only) and runs unitcorn from there: a sandboxed
service's PrivateTmp= hides /var/tmp, where the stage is; inside(path)
gives a stage path as the box sees it there.

Driven with `nsenter -t <its PID 1> -a systemctl ...`.  Everything waits for
an event (systemd's READY=1 on a notify socket, systemctl's own --wait, the
journal's follow mode), never for a fixed time.  Needs root; `available()`
says why not.
"""

import ctypes
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

BOOT_TARGET = "unitcorn-test.target"

BOOT_UNIT = """[Unit]
Description=unitcorn test boot
Wants=systemd-journald.socket systemd-journald.service apps.target
After=systemd-journald.service
AllowIsolate=yes
"""

# Runs inside the new namespaces, as their PID 1 until it execs systemd.
# $1: the staging dir (generator, units, supervisor.d, notify socket).
INNER = r"""
set -e
stage=$1
mount -t proc proc /proc
# PID 1 writes its console messages to /dev/console: here, a file of ours
mount --bind "$stage"/console /dev/console
mkdir -p /etc/supervisor.d
# before /tmp is covered: the supervisor dir may live there
mount --bind "$stage"/supervisor.d /etc/supervisor.d
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/systemd/system /run/systemd/system-generators /run/systemd/journald.conf.d \
         /run/systemd/system.conf.d
cp "$stage"/units/* /run/systemd/system/
cp "$stage"/unitcorn-generator /run/systemd/system-generators/unitcorn-generator
# Only the units listed in BASE_UNITS, ours and the generator's: nothing of
# the host's boot (sysctl, tmpfiles, binfmt, ...) runs in here.
mkdir -p /run/unitcorn-base
for u in $BASE_UNITS; do
        [ -e /lib/systemd/system/$u ] && ln -s /lib/systemd/system/$u /run/unitcorn-base/$u
done
# the kernel log is the host's: neither read it nor write to it
printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\nReadKMsg=no\n' > /run/systemd/journald.conf.d/unitcorn-test.conf
mkdir -p /run/systemd/system/systemd-journald.service.d
printf '[Service]\nEnvironment=SYSTEMD_LOG_TARGET=null\n' > /run/systemd/system/systemd-journald.service.d/unitcorn-test.conf
# (BOX_DEFAULT_ENV: UNITCORN_BINDIR=, for the generator's gunicorn rewrite)
printf '[Manager]\nDefaultEnvironment=UNITCORN_UNITDIR=/run/systemd/system %s\n' "$BOX_DEFAULT_ENV" \
        > /run/systemd/system.conf.d/unitcorn-test.conf
# BOX_SRV: the stage also at /srv/unitcorn-box, for services whose
# PrivateTmp= hides /var/tmp (where the stage is)
if [ -n "$BOX_SRV" ]; then
        mount -t tmpfs tmpfs /srv
        mkdir /srv/unitcorn-box
        mount --bind "$stage" /srv/unitcorn-box
fi
# drop-ins of the test's own (e.g. app@.service.d/ for every program)
if [ -d "$stage"/dropins ]; then cp -r "$stage"/dropins/. /run/systemd/system/; fi
hostname unitcorn-test
# NOTIFY_SOCKET: systemd tells its container manager (us) READY=1 once the
# boot transaction is done.
exec env container=unshare NOTIFY_SOCKET="$stage"/notify UNITCORN_UNITDIR=/run/systemd/system \
        SYSTEMD_UNIT_PATH=/run/systemd/transient:/run/systemd/generator.early:/run/systemd/system:/run/systemd/generator:/run/unitcorn-base:/run/systemd/generator.late \
        /lib/systemd/systemd --system --unit=""" + BOOT_TARGET + """ $SYSTEMD_ARGS
"""


# The host's units the box may use (linked from /lib/systemd/system).
BASE_UNITS = " ".join([
    "-.slice", "system.slice", "slices.target", "sysinit.target", "basic.target", "sockets.target",
    "paths.target", "timers.target", "local-fs.target", "swap.target", "network.target",
    "multi-user.target", "shutdown.target", "umount.target", "final.target", "poweroff.target",
    "systemd-poweroff.service", "reboot.target", "systemd-reboot.service", "halt.target",
    "systemd-halt.service", "exit.target", "systemd-exit.service",
    "systemd-journald.service", "systemd-journald.socket", "systemd-journald-dev-log.socket",
])


PR_SET_CHILD_SUBREAPER = 36


def _end_nsenter(p):
    """Ends an `nsenter -a` and the program it forked into the box.  That
    program's parent is outside the box: orphaned, it would go to the host's
    init and wait there as a zombie, and systemd's shutdown in the box waits
    for every process of its namespace.  So we are its subreaper, and reap it."""
    try:
        with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
            kids = [int(k) for k in f.read().split()]
    except FileNotFoundError:
        kids = []
    os.killpg(p.pid, signal.SIGTERM)
    p.wait()
    for k in kids:
        try:
            os.waitpid(k, 0)
        except ChildProcessError:
            pass


def _become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def available():
    """None when a systemd can be booted here, else the reason."""
    if os.geteuid() != 0:
        return "needs root (unshare of PID and mount namespaces)"
    for tool in ("unshare", "nsenter"):
        if not shutil.which(tool):
            return "%s not found" % tool
    if not os.path.exists("/lib/systemd/systemd"):
        return "no /lib/systemd/systemd"
    return None


class Box:
    """One booted systemd.  supervisor_dir is the host directory that becomes
    /etc/supervisor.d; generator and units_dir come from the build."""

    SRV = "/srv/unitcorn-box"

    def __init__(self, generator, units_dir, supervisor_dir, debug=False, unitcorn=None, service_env=None,
                 srv=False):
        # debug: PID 1 logs at debug level to its console (console_text())
        self.systemd_args = "--log-level=debug --log-target=console" if debug else ""
        # not under /tmp, which the namespace covers with its own tmpfs
        self.stage = tempfile.mkdtemp(prefix="unitcorn-box-", dir="/var/tmp")
        self.srv = srv
        self.default_env = ""
        if unitcorn:
            # the built server where the box sees it, as the generator's
            # UNITCORN_BINDIR: gunicorn commands become ExecStart=<it>
            bindir = os.path.join(self.stage, "bin")
            os.mkdir(bindir)
            os.chmod(self.stage, 0o755)
            shutil.copy(unitcorn, os.path.join(bindir, "unitcorn"))
            self.default_env = "UNITCORN_BINDIR=" + self.inside(bindir)
        if service_env:
            # Environment= for every app@ instance (e.g. ASAN_OPTIONS)
            dropin = os.path.join(self.stage, "dropins", "app@.service.d")
            os.makedirs(dropin)
            with open(os.path.join(dropin, "10-sysbox.conf"), "w") as f:
                f.write("[Service]\n" + "".join('Environment="%s=%s"\n' % kv for kv in service_env.items()))
        shutil.copy(generator, os.path.join(self.stage, "unitcorn-generator"))
        units = os.path.join(self.stage, "units")
        os.mkdir(units)
        for name in os.listdir(units_dir):
            if name.endswith((".service", ".socket", ".target")):
                shutil.copy(os.path.join(units_dir, name), os.path.join(units, name))
        with open(os.path.join(units, BOOT_TARGET), "w") as f:
            f.write(BOOT_UNIT)
        os.symlink(os.path.abspath(supervisor_dir), os.path.join(self.stage, "supervisor.d"))
        open(os.path.join(self.stage, "console"), "w").close()
        self.proc = None
        self.pid = None

    # -- life cycle --

    def boot(self, timeout=60):
        _become_subreaper()
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        path = os.path.join(self.stage, "notify")
        if os.path.exists(path):
            os.unlink(path)
        notify.bind(path)
        try:
            self.proc = subprocess.Popen(
                ["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "--propagation", "private",
                 "/bin/sh", "-c", INNER, "inner", self.stage],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env=dict(os.environ, BASE_UNITS=BASE_UNITS, SYSTEMD_ARGS=self.systemd_args,
                         BOX_DEFAULT_ENV=self.default_env, BOX_SRV="1" if self.srv else ""))
            self.output = b""
            self._drainer = threading.Thread(target=self._drain_output, daemon=True)
            self._drainer.start()
            self._wait_ready(notify, timeout)
        finally:
            notify.close()
        self.pid = self._pid1()
        r = self.run("systemctl", "is-system-running", "--wait", timeout=timeout, check=False)
        state = r.stdout.strip()
        if state not in ("running", "degraded"):
            failed = self.run("systemctl", "--failed", "--no-pager", check=False).stdout
            raise RuntimeError("boot ended in state %r:\n%s" % (state, failed))
        return self

    def _wait_ready(self, notify, timeout):
        """Until systemd sends READY=1, or the namespace dies."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("systemd sent no READY=1 in %ss" % timeout)
            ready, _, _ = select.select([notify], [], [], min(left, 0.5))
            if notify in ready:
                if b"READY=1" in notify.recv(4096).split(b"\n"):
                    return
            elif self.proc.poll() is not None:
                raise RuntimeError("the namespace exited before READY=1 (exit %s):\n%s%s"
                                   % (self.proc.returncode, self.output.decode(errors="replace"),
                                      self.console_text()))

    def _drain_output(self):
        """unshare's and the boot script's output.  Always read, or a full
        pipe would stop them."""
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            self.output += chunk

    def console_text(self):
        """What PID 1 wrote to its console (with debug=True: everything)."""
        with open(os.path.join(self.stage, "console"), "rb") as f:
            return f.read().decode(errors="replace")

    def _pid1(self):
        """The host PID of the namespace's PID 1: unshare's only child."""
        with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
            return int(f.read().split()[0])

    def poweroff(self, timeout=60):
        if not self.proc or self.proc.poll() is not None:
            return
        # exit.target: the manager stops every unit and exits, as a container's
        # PID 1 does; poweroff would also try to unmount the host's filesystems
        self.run("systemctl", "exit", "--no-block", check=False)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.poweroff()
        if self.proc and self.proc.stdout:
            self._drainer.join(10)
            self.proc.stdout.close()
        shutil.rmtree(self.stage, ignore_errors=True)

    def __enter__(self):
        return self.boot()

    def __exit__(self, *exc):
        self.cleanup()

    def inside(self, path):
        """A path under the stage as the box's services see it (srv=True:
        under /srv/unitcorn-box)."""
        if not self.srv:
            return path
        rel = os.path.relpath(path, self.stage)
        assert not rel.startswith(".."), "%s is not in the stage" % path
        return os.path.join(self.SRV, rel) if rel != "." else self.SRV

    def share(self, path):
        """A copy of a host file or directory where the box sees it (the
        stage, under /var/tmp): the box has its own /tmp and /run, so a
        build or a checkout under /tmp is not visible in it as it is."""
        dest = os.path.join(self.stage, "shared", os.path.basename(os.path.normpath(path)))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.isdir(path):
            shutil.copytree(path, dest, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(path, dest)
        return dest

    # -- driving it --

    def run(self, *cmd, timeout=60, check=True, input=None):
        r = subprocess.run(["nsenter", "-t", str(self.pid), "-a", "--"] + list(cmd), input=input,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
        return r

    def systemctl(self, *args, check=True):
        return self.run("systemctl", "--no-pager", *args, check=check)

    def show(self, unit, prop):
        return self.systemctl("show", "-P", prop, unit).stdout.strip()

    def journal(self, *args):
        return self.run("journalctl", "--no-pager", "-o", "cat", *args, check=False).stdout

    def follow_journal(self, *args, output="cat", timeout=30, what="a journal line"):
        """Yields the journal's lines (journalctl -f -n all -o OUTPUT, with
        args, e.g. -u UNIT) as they come, lines already there first, until
        the caller stops; TimeoutError after timeout seconds."""
        # All namespaces (with only the mount namespace, -f sees no new
        # entries); nsenter then forks journalctl into the box, so both are
        # ended together, by their process group, below.
        p = subprocess.Popen(["nsenter", "-t", str(self.pid), "-a", "--", "journalctl", "--no-pager", "-o", output,
                              "-f", "-n", "all"] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        pending = b""
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no %s after %ss (journalctl %s)" % (what, timeout, args))
                # raw reads: a buffered reader could hold lines select() does not see
                ready, _, _ = select.select([p.stdout], [], [], left)
                if not ready:
                    continue
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError("journalctl exited")
                pending += chunk
                *lines, pending = pending.split(b"\n")
                yield from lines
        finally:
            _end_nsenter(p)

    def wait_journal(self, pattern, *args, timeout=30):
        """Follows the journal (with args, e.g. -u UNIT) until a line contains
        pattern; returns that line.  Lines already there count."""
        for line in self.follow_journal(*args, timeout=timeout, what="journal line with %r" % pattern):
            text = line.decode(errors="replace")
            if pattern in text:
                return text
