"""A small IMAP4rev1 server on 127.0.0.1 for the tests: one INBOX of messages with a \\Seen flag,
answering the commands an IMAP client sends to read and mark mail (CAPABILITY, LOGIN, SELECT,
SEARCH, FETCH RFC822, STORE, LOGOUT), so that the real client (imaplib) is what is tested."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    user: str
    password: str
    messages: list[bytes] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    logins: int = 0


class _Handler(socketserver.StreamRequestHandler):
    box: Mailbox

    def send(self, text: str | bytes) -> None:
        self.wfile.write(text.encode() if isinstance(text, str) else text)

    def handle(self) -> None:
        box = self.server.box  # type: ignore[attr-defined]
        self.send("* OK IMAP4rev1 stand-in ready\r\n")
        authed = False
        while line := self.rfile.readline():
            tag, _sp, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _sp, args = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                self.send(f"* CAPABILITY IMAP4rev1\r\n{tag} OK CAPABILITY completed\r\n")
            elif command == "LOGIN":
                user, password = [a.strip('"') for a in args.split(" ", 1)]
                if (user, password) == (box.user, box.password):
                    authed = True
                    box.logins += 1
                    self.send(f"{tag} OK LOGIN completed\r\n")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] wrong user or password\r\n")
            elif not authed and command != "LOGOUT":
                self.send(f"{tag} BAD not logged in\r\n")
            elif command == "SELECT":
                self.send(
                    f"* {len(box.messages)} EXISTS\r\n* FLAGS (\\Seen)\r\n{tag} OK [READ-WRITE] SELECT completed\r\n"
                )
            elif command == "SEARCH":
                unseen = [str(i) for i in range(1, len(box.messages) + 1) if i not in box.seen]
                self.send(
                    f"* SEARCH {' '.join(unseen)}\r\n{tag} OK SEARCH completed\r\n".replace("SEARCH \r", "SEARCH\r")
                )
            elif command == "FETCH":
                number = int(args.split(" ", 1)[0])
                raw = box.messages[number - 1]
                self.send(
                    f"* {number} FETCH (RFC822 {{{len(raw)}}}\r\n".encode()
                    + raw
                    + f")\r\n{tag} OK FETCH completed\r\n".encode()
                )
            elif command == "STORE":
                number = int(args.split(" ", 1)[0])
                if re.search(r"\+FLAGS.*\\Seen", args, re.IGNORECASE):
                    box.seen.add(number)
                self.send(f"* {number} FETCH (FLAGS (\\Seen))\r\n{tag} OK STORE completed\r\n")
            elif command == "LOGOUT":
                self.send(f"* BYE logging out\r\n{tag} OK LOGOUT completed\r\n")
                return
            else:
                self.send(f"{tag} BAD unknown command\r\n")


@contextmanager
def imap_standin(box: Mailbox) -> Iterator[int]:
    """Serve `box` on a free port of 127.0.0.1; yields the port."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.box = box  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
