"""A minimal SMTP server for tests, on a real socket: it accepts messages, refuses them
(554, as a server that bounces the sender), or hangs (accepts the connection and never
answers). Python 3.12 has no `smtpd` and aiosmtpd is not installed; this speaks the few
commands Django's SMTP backend sends (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)."""

import socket
import threading
from email import message_from_bytes
from email.message import Message
from typing import BinaryIO

ACCEPT, REFUSE, HANG = "accept", "refuse", "hang"


class SmtpSink:
    def __init__(self) -> None:
        self.mode = ACCEPT
        self.messages: list[Message] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port: int = self._server.getsockname()[1]
        self._stopping = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def close(self) -> None:
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
                    reply("354 go ahead")
                    self.messages.append(message_from_bytes(self._read_data(reader)))
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
    def _read_data(reader: BinaryIO) -> bytes:
        lines = []
        while (line := reader.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # dot-unstuffing
        return b"".join(lines)
