"""Debian's dovecot, configured and started in a directory of its own: IMAP with plaintext
login on 127.0.0.1 only, users in passwd-files (one each), maildirs under the directory, and an LMTP
listener through which the SMTP server delivers. It runs as the current user (root
included: first_valid_uid=0), in the foreground (`dovecot -F`), on free ports."""

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
START_SECONDS = 20

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
first_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_uid = 0
default_internal_user = {internal_user}
default_login_user = {login_user}
mail_location = maildir:{root}/mail/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users/%Lu
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
service anvil {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _quoted(folder: str) -> str:
    """imaplib sends arguments as they are: a folder name with a space needs quotes."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _service_users(uid: int) -> tuple[str, str]:
    """dovecot refuses to run its login processes as root: as root, Debian's own users
    (dovecot, dovenull); as anybody else, that user for everything (it cannot switch)."""
    if uid != 0:
        name = pwd.getpwuid(uid).pw_name
        return name, name
    return "dovecot", "dovenull"


def dovecot_available() -> bool:
    return Path(DOVECOT).is_file() and os.access(DOVECOT, os.X_OK)


class DovecotServer:
    """`start()`, then `add_user`, `append`, `fetch_all`; `stop()` ends the process."""

    host = "127.0.0.1"

    def __init__(self, root: Path | None = None) -> None:
        self.own_root = root is None  # a directory of our own is removed by stop()
        self.root = Path(root or tempfile.mkdtemp(prefix="crm-dovecot-"))
        self.port = free_port()
        self.lmtp_port = free_port()
        self.passwords: dict[str, str] = {}
        self.process: subprocess.Popen | None = None

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    def start(self) -> "DovecotServer":
        for name in ("run", "state", "mail", "users"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the unprivileged login processes reach their sockets
        internal_user, login_user = _service_users(os.getuid())
        # dovecot never stores mail as root: as root, the maildirs belong to its own user.
        owner = pwd.getpwnam(internal_user)
        uid, gid = owner.pw_uid, owner.pw_gid
        os.chown(self.root / "mail", uid, gid)
        self.config_path.write_text(
            CONFIG.format(
                root=self.root,
                uid=uid,
                gid=gid,
                imap_port=self.port,
                lmtp_port=self.lmtp_port,
                internal_user=internal_user,
                login_user=login_user,
            )  # fmt: skip
        )
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [DOVECOT, "-F", "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_for_ports()
        return self

    def _wait_for_ports(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.log()}")
            with contextlib.suppress(OSError):
                for port in (self.port, self.lmtp_port):
                    socket.create_connection((self.host, port), timeout=1).close()
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not listen within {START_SECONDS} s: {self.log()}")

    def log(self) -> str:
        stderr = b""
        if self.process and self.process.poll() is not None and self.process.stderr:
            stderr = self.process.stderr.read() or b""
        path = self.root / "dovecot.log"
        text = path.read_text(errors="replace")[-4000:] if path.exists() else ""
        return stderr.decode(errors="replace") + text

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process and self.process.stderr:
            self.process.stderr.close()
        if self.own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self, name: str, password: str) -> str:
        """A mailbox `name` (an address or a plain name) with this password: a passwd-file
        of its own (dovecot checks a changed passwd-file at most once a second, so one
        shared file would miss a user added just after another)."""
        name = name.lower()
        if ":" in name or ":" in password or "\n" in name + password or "/" in name:
            raise ValueError("user names and passwords may not hold ':', '/' or new lines")
        self.passwords[name] = password
        path = self.root / "users" / name
        path.with_suffix(".new").write_text(f"{name}:{{PLAIN}}{password}::::::\n")
        path.with_suffix(".new").replace(path)
        return name

    def connect(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=30)
        try:
            client.login(user.lower(), self.passwords[user.lower()])
        except imaplib.IMAP4.error:
            client.shutdown()
            raise
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        self.append_many(user, [raw], folder=folder)

    def append_many(self, user: str, messages: list[bytes], folder: str = "INBOX") -> None:
        client = self.connect(user)
        try:
            if folder.upper() != "INBOX":
                client.create(_quoted(folder))  # an existing folder answers NO: fine
            for raw in messages:
                status, detail = client.append(_quoted(folder), "", None, raw)
                if status != "OK":
                    raise RuntimeError(f"APPEND refused: {detail!r}")
        finally:
            client.logout()

    def delete_folder(self, user: str, folder: str) -> None:
        client = self.connect(user)
        try:
            client.delete(_quoted(folder))
        finally:
            client.logout()

    def fetch_all(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """Every message in the folder, oldest first, as raw bytes."""
        client = self.connect(user)
        try:
            client.select(_quoted(folder), readonly=True)
            _status, data = client.uid("SEARCH", "ALL")
            uids = data[0].split() if data and data[0] else []
            messages: list[bytes] = []
            for uid in uids:
                _status, parts = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
                messages.extend(bytes(p[1]) for p in parts if isinstance(p, tuple))
            return messages
        finally:
            client.logout()
