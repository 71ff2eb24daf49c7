"""Turning the bytes and encoded words of real mail into text, whatever the sender declared.

Clients lie about charsets: "gb2312" mail carries GBK characters, "big5" carries Hong Kong
characters, "iso-8859-1" carries Windows-1252 quotes, and some declare charsets nobody knows.
Each declared charset is read as its widest superset; what still cannot be decoded is
replaced (U+FFFD), never raised.
"""

import base64
import binascii
import codecs
import quopri
import re

# A declared charset -> the superset its senders really write in.
WIDER_CHARSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "gb_2312-80": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-2022-jp": "iso2022_jp_ext",
    "shift_jis": "cp932",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
}

# Guesses for bytes that carry no charset (8-bit headers, undeclared parts), in order.
GUESSES = ("utf-8", "gb18030", "cp1252")


# Only text charsets that mail uses. Python knows codecs a sender must not choose: punycode
# decodes in time growing with the square of its input (20 MB would hold a worker for
# hours), and idna, unicode_escape, raw_unicode_escape, utf-7, rot13 or zlib are not charsets.
CHARSET_FAMILIES = re.compile(
    r"^(utf[-_]?(8|16|32)([-_]sig)?([-_][bl]e)?|ascii|latin[-_]?\d*|iso[-_]?8859[-_]\d+|cp\d+"
    r"|windows[-_]?\d+|gb\w*|big5\w*|hz|euc[-_]\w+|shift[-_]?jis\w*|iso[-_]?2022[-_]\w+"
    r"|koi8[-_]\w+|mac[-_]?\w+|tis[-_]?620|johab|ks[-_]c[-_]5601\w*)$"
)


def _codec(charset: str) -> str | None:
    name = charset.strip().strip("\"'").lower().split("*", 1)[0]
    name = WIDER_CHARSETS.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError, TypeError):
        return None
    return codec if CHARSET_FAMILIES.match(codec) else None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """`data` as text: in its declared charset (widened), else guessed; never raises."""
    codec = _codec(charset) if charset else None
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    else:
        for guess in GUESSES[:2]:
            try:
                return data.decode(guess)
            except UnicodeDecodeError:
                continue
    try:
        return data.decode(codec or "utf-8", errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def undo_surrogates(text: str) -> str:
    """The email package keeps undecodable 8-bit header bytes as surrogates: decode them."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", errors="surrogateescape")
    return decode_bytes(data, None)


ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        if encoding.upper() == "B":
            padded = text + "=" * (-len(text) % 4)
            return base64.b64decode(padded.encode("ascii", errors="ignore"), validate=False)
        return quopri.decodestring(text.replace("_", " ").encode("ascii", errors="ignore"))
    except (binascii.Error, ValueError):
        return None


def decode_words(value: str) -> str:
    """RFC 2047 encoded words (=?charset?B|Q?...?=) decoded, even where RFC 2047 forbids
    them (inside quotes, in file names): clients put them there. Adjacent words of one
    charset are decoded together: a GBK character is often split across two of them."""
    value = undo_surrogates(value)
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""
    position = 0
    for match in ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        charset = match.group(1)
        data = _word_bytes(match.group(2), match.group(3))
        joined = pending and not between.strip() and charset.lower() == pending_charset.lower()
        if pending and not joined:
            out.append(decode_bytes(b"".join(pending), pending_charset))
            pending = []
        if not pending and not (out and not between.strip() and position):
            out.append(between)
        if data is None:
            out.append(match.group(0))
        else:
            pending.append(data)
            pending_charset = charset
        position = match.end()
    if pending:
        out.append(decode_bytes(b"".join(pending), pending_charset))
    out.append(value[position:])
    return "".join(out)


def clean_text(value: str) -> str:
    """Text a database accepts: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", errors="replace").decode("utf-8")
    return value


def one_line(value: str) -> str:
    return " ".join(clean_text(value).split())
