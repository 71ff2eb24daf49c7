"""`python -m devtools.mailserver [--user NAME:PASSWORD ...]`: dovecot and the SMTP server
in the foreground, for a developer's machine; Ctrl-C stops both."""

import argparse
import time

from devtools.mailserver.dovecot import DovecotServer
from devtools.mailserver.smtp import SmtpServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--user", action="append", default=[], help="NAME:PASSWORD")
    args = parser.parse_args()
    dovecot = DovecotServer().start()
    smtp = SmtpServer(dovecot).start()
    for spec in args.user:
        name, _, password = spec.partition(":")
        dovecot.add_user(name, password)
    print(  # noqa: T201 - the developer reads it
        f"IMAP 127.0.0.1:{dovecot.port} (plaintext, security 'none'), "
        f"SMTP 127.0.0.1:{smtp.port}, LMTP 127.0.0.1:{dovecot.lmtp_port}, files in {dovecot.root}"
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        smtp.stop()
        dovecot.stop()


if __name__ == "__main__":
    main()
