"""What a reply says that is new, and who wrote the message a forward carries.

Mail clients quote the history of a thread under a line of their own: Gmail's "On ...
wrote:", Outlook's "-----Original Message-----" or a "From: ... Sent: ..." block, Apple
Mail's "On ..., at ..., ... wrote:" and "Begin forwarded message:", Foxmail/QQ's
"------------------ 原始邮件 ------------------", Chinese Gmail's "... 写道：", and the
"> " lines of plain-text clients. The text above the first of these is the new text.
"""

import re
from dataclasses import dataclass, field
from email.utils import getaddresses

# A line that starts the quoted history (matched against one line, stripped).
HISTORY_LINES = [
    re.compile(
        r"^-{2,}\s*(original message|original|message d'origine|ursprüngliche nachricht)"
        r"\s*-{2,}$",
        re.I,
    ),  # fmt: skip
    re.compile(r"^-{2,}\s*(原始邮件|原始郵件|原始信件)\s*-{2,}$"),
    re.compile(r"^-{2,}\s*(forwarded message|forwarded message follows)\s*-{2,}$", re.I),
    re.compile(r"^-{2,}\s*(转发邮件信息|轉寄郵件資訊|转发的邮件)\s*-{2,}$"),
    re.compile(r"^(begin forwarded message|开始转发的邮件|以下为转发的邮件)\s*[:：]$", re.I),
    re.compile(r"^_{10,}$"),  # Outlook's rule above a From:/Sent: block
]
# "On <date>, <someone> wrote:" (Gmail, Apple Mail, Thunderbird), German, French, Chinese.
WROTE_LINE = re.compile(
    r"^(on\s.{0,300}\swrote\s*:"
    r"|am\s.{0,300}\sschrieb\s.{0,200}:"
    r"|le\s.{0,300}\sa écrit\s*:"
    r"|el\s.{0,300}\sescribió\s*:"
    r"|.{0,300}(写道|寫道)\s*[:：])$",
    re.I,
)
FORWARD_MARKERS = HISTORY_LINES[2:5]
HEADER_LINE = re.compile(
    r"^\*?(from|to|cc|sent|date|subject|发件人|發件人|收件人|抄送|发送时间|發送時間|日期|时间|主题|主旨)"
    r"\*?\s*[:：]\s*(.*)$",
    re.I,
)
FROM_NAMES = {"from", "发件人", "發件人"}
TO_NAMES = {"to", "收件人"}
CC_NAMES = {"cc", "抄送"}
SENT_NAMES = {"sent", "date", "发送时间", "發送時間", "日期", "时间"}
FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|转发|轉寄|wg|tr)\s*[:：]", re.I)


def _starts_history(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if any(pattern.match(line) for pattern in HISTORY_LINES):
        return True
    if WROTE_LINE.match(line):
        return True
    # Gmail wraps a long "On ... wrote:" line in two.
    wrapped = index + 1 < len(lines) and re.match(r"^(on|在)\s", line, re.I)
    if wrapped and WROTE_LINE.match(line + " " + lines[index + 1].strip()):
        return True
    return _starts_header_block(lines, index)


def _starts_header_block(lines: list[str], index: int) -> bool:
    """Outlook's "From: ...\\nSent: ...": a From line followed closely by a Sent/Date line."""
    match = HEADER_LINE.match(lines[index].strip())
    if not match or match.group(1).lower() not in FROM_NAMES:
        return False
    for following in lines[index + 1 : index + 5]:
        found = HEADER_LINE.match(following.strip())
        if found and found.group(1).lower() in SENT_NAMES:
            return True
    return False


def strip_quoted(text: str) -> str:
    """The new text of a reply: above its quoted history, without "> " lines."""
    lines = text.splitlines()
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _starts_history(lines, index):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


@dataclass
class ForwardedHeaders:
    """Who wrote and received the message a forward quotes in its text."""

    from_name: str = ""
    from_address: str = ""
    participants: list[str] = field(default_factory=list)
    subject: str = ""


def _addresses(value: str) -> list[tuple[str, str]]:
    # Outlook writes "Name [mailto:name@example.com]"; QQ writes "Name<name@qq.com>;".
    value = re.sub(r"\[mailto:([^\]]+)\]", r"<\1>", value).replace(";", ",")
    return [(name, address.lower()) for name, address in getaddresses([value]) if "@" in address]


def _is_forward_marker(line: str) -> bool:
    return any(pattern.match(line.strip()) for pattern in FORWARD_MARKERS)


def forwarded_headers(text: str, subject: str) -> ForwardedHeaders | None:
    """The header block of the first forwarded message in `text`, for a forward (a marker
    of one, or a "Fwd:" subject with a quoted header block)."""
    lines = text.splitlines()
    forward = bool(FORWARD_SUBJECT.match(subject))
    for index, line in enumerate(lines):
        marker = _is_forward_marker(line)
        if marker or (forward and _starts_history(lines, index)):
            found = _read_header_block(lines[index : index + 30])
            if found.from_address or found.participants:
                return found
    return None


def _read_header_block(lines: list[str]) -> ForwardedHeaders:
    found = ForwardedHeaders()
    seen_header = False
    for line in lines:
        match = HEADER_LINE.match(line.strip())
        if not match:
            if seen_header and not line.strip():
                break
            continue
        seen_header = True
        name, value = match.group(1).lower(), match.group(2)
        if name in FROM_NAMES and not found.from_address:
            senders = _addresses(value)
            if senders:
                found.from_name, found.from_address = senders[0]
                found.participants.append(senders[0][1])
        elif name in TO_NAMES or name in CC_NAMES:
            found.participants.extend(address for _, address in _addresses(value))
        elif name in ("subject", "主题", "主旨") and not found.subject:
            found.subject = value.strip()
    found.participants = list(dict.fromkeys(found.participants))
    return found
