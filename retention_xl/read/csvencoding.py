"""Which encoding a CSV file is written in, and how sure the choice is.

The rule, in this order:

1. ``--encoding`` decides when given.
2. A byte-order mark decides: UTF-8, UTF-16 LE or UTF-16 BE.
3. Bytes that are valid UTF-8 (plain ASCII included) are UTF-8.
4. Otherwise the readings in GB18030 (GBK), Big5 and Windows-1252 that decode every byte are
   candidates (Latin-1 only where Windows-1252 cannot decode: the two differ only where
   Windows-1252 has € ’ “ ”), readings giving the same text counted once. Readings in which the
   header row is found beat those in which it is not. The rest are ranked by
   charset-normalizer's measure of mess (:func:`charset_normalizer.md.mess_ratio`) over the
   words that hold non-ASCII bytes, the least messy first. When two readings are about as
   messy, the one whose letters are the common ones of its script wins (accented Latin letters;
   the first level of GB2312 or Big5); when that does not settle it either, the file is
   refused in one line naming the readings and ``--encoding``.

A reading chosen over another that is only somewhat messier (or by the tie-break) is
"not clear-cut": the report then says which encoding it used. The bytes looked at are the
first megabyte, plus, when that is plain ASCII, the lines around the first non-ASCII byte
further on, so that accented names deep in a file still count.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

SAMPLE_BYTES = 1 << 20
LEGACY = ("gb18030", "big5", "cp1252")
NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "gb18030": "GB18030",
         "big5": "Big5", "cp1252": "Windows-1252", "latin-1": "Latin-1"}
CLEAR_MARGIN = 0.5  # a reading this much less messy than every other is chosen without a word
TIE_MARGIN = 0.1    # readings closer than this are told apart by their common letters, or not at all
COMMON_MARGIN = 0.25
# Bytes below "@" are never the second byte of a GBK or Big5 character: words split there keep their characters.
_WORD = re.compile(rb"[\x40-\xff]*[\x80-\xff][\x40-\xff]*")
_WORDS_LOOKED_AT = 2_000
_WESTERN_SIGNS = set("€’‘“”–—…°£§©®™•«»¿¡½¼¾ºª·")


class UnclearEncoding(ValueError):
    """The bytes read about as well in two encodings; the message names them and ``--encoding``."""


@dataclass(frozen=True)
class EncodingChoice:
    """The encoding a file is read with, its first bytes decoded, and any other reading it also has.

    ``others`` is empty when the choice is clear-cut (given, a byte-order mark, UTF-8, or
    the only reading that is not gibberish).
    """

    encoding: str
    text: str
    others: tuple[str, ...] = ()
    example: tuple[str, str] | None = None  # a word as read, and as the first other reading reads it

    @property
    def clear_cut(self) -> bool:
        return not self.others

    @property
    def shown_names(self) -> tuple[str, ...]:
        """The encoding used, then the other readings, as they are named to the user.

        >>> EncodingChoice("gb18030", "", ("cp1252",)).shown_names
        ('GB18030', 'Windows-1252')
        """
        return tuple(display_name(name) for name in (self.encoding, *self.others))

    def without_text(self) -> EncodingChoice:
        """The choice without the decoded bytes, to keep with the sales once the header is found."""
        return replace(self, text="")

    def describe(self) -> str:
        """The encoding used, and the readings it was chosen over, in a sentence fragment.

        >>> EncodingChoice("cp1252", "", ("gb18030",), ("Réplicas", "R閜licas")).describe()
        'Windows-1252 (it also reads as GB18030, "Réplicas" as "R閜licas")'
        """
        name = display_name(self.encoding)
        if self.clear_cut:
            return name
        others = " or ".join(display_name(other) for other in self.others)
        shown = f', "{self.example[0]}" as "{self.example[1]}"' if self.example else ""
        return f"{name} (it also reads as {others}{shown})"


def common_encoding(choices: list[EncodingChoice | None]) -> EncodingChoice | None:
    """The encoding of several files read as one table, where they share it, with every other reading any had."""
    first = choices[0]
    if first is None or any(choice is None or choice.encoding != first.encoding for choice in choices):
        return None
    others = tuple(dict.fromkeys(other for choice in choices for other in choice.others))
    example = next((choice.example for choice in choices if choice.example), None)
    return EncodingChoice(first.encoding, "", others, example)


def codec_without_bom(encoding: str, first_bytes: bytes) -> str:
    """The codec that encodes text as the file does, without a byte-order mark: UTF-16 in the file's byte order."""
    name = codecs.lookup(encoding).name
    if name == "utf-16":
        return "utf-16-be" if first_bytes == codecs.BOM_UTF16_BE else "utf-16-le"
    return "utf-8" if name == "utf-8-sig" else encoding


def display_name(encoding: str) -> str:
    """How an encoding is named to the user.

    >>> display_name("gb18030"), display_name("ISO-8859-15")
    ('GB18030', 'ISO-8859-15')
    """
    return NAMES.get(encoding.lower(), encoding)


def file_sample(path: Path, sample_bytes: int = SAMPLE_BYTES, chunk: int = 1 << 24) -> tuple[bytes, bytes]:
    """(the first bytes of the file, the lines around its first non-ASCII byte past them, or b"")."""
    with path.open("rb") as handle:
        head = handle.read(sample_bytes)
        if not head.isascii() or len(head) < sample_bytes:
            return head, b""
        carried = head[head.rfind(b"\n") + 1:]
        while block := handle.read(chunk):
            data = carried + block
            if not data.isascii():
                first = re.search(rb"[\x80-\xff]", data).start()
                start = data.rfind(b"\n", 0, first) + 1
                return head, data[start:start + sample_bytes]
            carried = data[data.rfind(b"\n") + 1:]
    return head, b""


def choose_encoding(head: bytes, further: bytes = b"", finds_header: Callable[[str], bool] = lambda text: True,
                    complete: bool = False) -> EncodingChoice:
    """The encoding of a file whose first bytes are ``head`` (``complete`` when that is the whole file);
    ``further`` holds lines from later in the file; ``finds_header(text)`` says whether a decoded
    ``head`` shows the header row. Raises :class:`UnclearEncoding`.

    >>> choose_encoding("Kunde;Betrag\\nMüller;5".encode("cp1252")).encoding
    'cp1252'
    >>> choose_encoding("客户,金额\\n张三,5".encode("gbk")).encoding
    'gb18030'
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return EncodingChoice(encoding, _decode(head, encoding, complete) or "")
    readings, seen = {}, set()
    for encoding in ("utf-8", *LEGACY, "latin-1"):
        text, later = _decode(head, encoding, complete), _decode(further, encoding, False)
        if text is None or later is None or (text, later) in seen:
            continue
        if encoding == "utf-8":
            return EncodingChoice(encoding, text)
        readings[encoding] = text
        seen.add((text, later))
    if "cp1252" in readings:
        readings.pop("latin-1", None)
    with_header = [encoding for encoding, text in readings.items() if finds_header(text)]
    candidates = with_header or list(readings)
    return _ranked(candidates, readings, head + b"\n" + further)


def _decode(data: bytes, encoding: str, final: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    except UnicodeDecodeError:
        return None


def _ranked(candidates: list[str], readings: dict[str, str], data: bytes) -> EncodingChoice:
    """The least messy of ``candidates`` over the words of ``data`` that hold non-ASCII bytes."""
    from charset_normalizer.md import mess_ratio

    words = b"\n".join(list(dict.fromkeys(_WORD.findall(data)))[:_WORDS_LOOKED_AT])
    texts = {encoding: words.decode(encoding, errors="replace") for encoding in candidates}
    mess = {encoding: mess_ratio(text, maximum_threshold=10.0) for encoding, text in texts.items()}
    order = sorted(candidates, key=lambda encoding: (mess[encoding], candidates.index(encoding)))
    best, rivals = order[0], order[1:]
    tied = [encoding for encoding in rivals if mess[encoding] - mess[best] < TIE_MARGIN]
    if tied:
        common = {encoding: _common_share(texts[encoding], encoding) for encoding in [best, *tied]}
        order = sorted([best, *tied], key=lambda encoding: -common[encoding])
        best = order[0]
        if common[best] - common[order[1]] < COMMON_MARGIN:
            raise UnclearEncoding(_unclear(order, texts))
        rivals = [encoding for encoding in candidates if encoding != best]
    others = tuple(encoding for encoding in rivals if mess[encoding] - mess[best] < CLEAR_MARGIN or encoding in tied)
    example = _example(texts[best], texts[others[0]]) if others else None
    return EncodingChoice(best, readings[best], others, example)


def _common_share(text: str, encoding: str) -> float:
    """The share of the non-ASCII characters of ``text`` that are everyday ones in ``encoding``'s script."""
    strange = [c for c in text if ord(c) > 127]
    if not strange:
        return 0.0
    return sum(_is_common(c, encoding) for c in strange) / len(strange)


def _is_common(character: str, encoding: str) -> bool:
    if encoding in ("cp1252", "latin-1"):
        return character in _WESTERN_SIGNS or unicodedata.name(character, "").startswith("LATIN ")
    try:
        lead = character.encode("gb2312" if encoding == "gb18030" else "big5")[0]
    except UnicodeEncodeError:
        return False
    # GB2312's first level (the 3,755 commonest characters) and Big5's (5,401 in common use).
    return 0xB0 <= lead <= 0xD7 if encoding == "gb18030" else 0xA4 <= lead <= 0xC6


def _example(chosen: str, other: str) -> tuple[str, str] | None:
    """The first word that the two readings read differently."""
    for mine, theirs in zip(chosen.split("\n"), other.split("\n")):
        if mine != theirs:
            return mine[:30], theirs[:30]
    return None


def _unclear(order: list[str], texts: dict[str, str]) -> str:
    first, second = order[:2]
    example = _example(texts[first], texts[second]) or ("", "")
    return (f'cannot tell the file\'s encoding: it reads as {display_name(first)} ("{example[0]}") and as '
            f'{display_name(second)} ("{example[1]}"); give --encoding {first} or --encoding {second}')
