"""A minimal SMTP server for tests, on a real socket: it accepts messages, refuses them
(554, as a server that bounces the sender), or hangs (accepts the connection and never
answers). Python 3.12 has no `smtpd` and aiosmtpd is not installed; this speaks the few
commands Django's SMTP backend sends (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).

For the fault tests it can also be slow (`data_delay` before accepting each message) and
hold a session in the DATA phase until `release()`: BEFORE_DATA parks on the DATA command,
before the message is sent (a client that dies there delivered nothing); AFTER_DATA parks
after the message's final dot, before the 250 reply (the server has the message, the client
does not know it: the case that makes at-least-once delivery send it twice). `held` is set
while a session is parked.
"""

import socket
import threading
import time
from email import message_from_bytes
from email.message import Message
from typing import BinaryIO

ACCEPT, REFUSE, HANG = "accept", "refuse", "hang"
BEFORE_DATA, AFTER_DATA = "before data", "after data"


class SmtpSink:
    def __init__(self) -> None:
        self.mode = ACCEPT
        self.messages: list[Message] = []
        self.data_delay = 0.0
        self.hold: str | None = None
        self.held = threading.Event()
        self.incomplete = 0  # messages whose client went away before their final dot
        self._release = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port: int = self._server.getsockname()[1]
        self._stopping = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Let held sessions go on, and hold no more."""
        self.hold = None
        self._release.set()

    def _park(self, stage: str) -> None:
        if self.hold == stage:
            self.held.set()
            self._release.wait(timeout=120)

    def close(self) -> None:
        self._release.set()
        self._stopping.set()
        self._thread.join(timeout=5)
        for held in self._held:
            held.close()
        self._server.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _address = self._server.accept()
            except TimeoutError:
                continue
            if self.mode == HANG:
                self._held.append(client)  # never answered, closed when the sink stops
                continue
            threading.Thread(target=self._session, args=(client,), daemon=True).start()

    def _session(self, client: socket.socket) -> None:
        client.settimeout(10)
        reader = client.makefile("rb")

        def reply(line: str) -> None:
            client.sendall(line.encode() + b"\r\n")

        try:
            reply("220 sink ESMTP")
            while line := reader.readline():
                command = line[:4].upper()
                if command in (b"EHLO", b"HELO"):
                    reply("250 sink")
                elif command == b"MAIL" and self.mode == REFUSE:
                    reply("554 5.7.1 refused by the test sink")
                elif command in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    reply("250 OK")
                elif command == b"DATA":
                    self._park(BEFORE_DATA)
                    reply("354 go ahead")
                    data, complete = self._read_data(reader)
                    if not complete:
                        self.incomplete += 1
                        break
                    self.messages.append(message_from_bytes(data))
                    self._park(AFTER_DATA)
                    time.sleep(self.data_delay)
                    reply("250 queued")
                elif command == b"QUIT":
                    reply("221 bye")
                    break
                else:
                    reply("502 not implemented")
        except OSError:
            pass
        finally:
            reader.close()
            client.close()

    @staticmethod
    def _read_data(reader: BinaryIO) -> tuple[bytes, bool]:
        """The message, and whether it ended with its final dot (not the client leaving)."""
        lines = []
        while (line := reader.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # dot-unstuffing
        return b"".join(lines), line == b".\r\n"
