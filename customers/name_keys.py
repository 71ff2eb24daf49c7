"""Customer names reduced to a key for finding similar ones, the same on both databases.

The key keeps the ASCII letters and digits of the name, lower-cased, as words sorted
alphabetically, without legal forms and titles: "Watts, Hazel" and "Mr Hazel Watts" are
"hazel watts", "ACME Corporation Ltd" is "acme". Other characters (Chinese names, accents)
separate words, so a Chinese name has an empty key and is matched by the same-name rule only.

`trigram_similarity` is pg_trgm's similarity(): the shared share of the words' trigrams
(each word padded with two spaces before and one after). PostgreSQL computes the key with
the SQL function `customer_name_key` (migration 0022, kept in the `name_key` column by a
trigger) and the similarity with pg_trgm; SQLite calls these Python functions, registered
on each connection under the same names, so both list the same pairs.
"""

import re

from django.db.backends.signals import connection_created

# Legal forms and titles: words that say nothing about who the customer is.
IGNORED_WORDS = [
    *["ltd", "limited", "inc", "incorporated", "corp", "corporation", "co", "company"],
    *["llc", "llp", "plc", "gmbh", "ag", "pte", "pty", "the"],
    *["mr", "mrs", "ms", "miss", "dr", "prof"],
]
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")
_IGNORED = frozenset(IGNORED_WORDS)


def name_key(name: str | None) -> str:
    words = _NOT_WORD.sub(" ", name or "").lower().split()
    return " ".join(sorted(word for word in words if word not in _IGNORED))


def trigrams(text: str) -> frozenset[str]:
    grams: set[str] = set()
    for word in _NOT_WORD.sub(" ", text).lower().split():
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def trigram_similarity(first: str | None, second: str | None) -> float:
    a, b = trigrams(first or ""), trigrams(second or "")
    shared = len(a & b)
    total = len(a) + len(b) - shared
    return shared / total if total else 0.0


def _reverse(text: str | None) -> str | None:
    return None if text is None else text[::-1]


def _register_on_sqlite(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("customer_name_key", 1, name_key, deterministic=True)
    raw.create_function("similarity", 2, trigram_similarity, deterministic=True)
    raw.create_function("reverse", 1, _reverse, deterministic=True)


def register_name_key_functions() -> None:
    connection_created.connect(_register_on_sqlite, dispatch_uid="customer_name_key_functions")
