"""Checks on user-written text that every feature shares."""

from __future__ import annotations

import unicodedata

# Zero-width non-joiner and joiner shape words in Persian, Arabic and Indic scripts (and
# emoji): format characters, but part of the text rather than a trick played on it.
JOINERS = {"\u200c", "\u200d"}


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf") and char not in JOINERS


def has_control_characters(value: str, *, line_breaks: bool = False) -> bool:
    """True when ``value`` holds a newline, a tab, another control character or an invisible
    format character (such as a right-to-left override) that has no place on one line. With
    ``line_breaks``, newlines are allowed (text of several lines)."""
    if _printable(value, line_breaks=line_breaks):
        return False
    allowed = "\r\n" if line_breaks else ""
    return any(_is_control(char) and char not in allowed for char in value)


def _printable(value: str, *, line_breaks: bool) -> bool:
    """Whether ``value`` (less its line breaks, if allowed) is all printable, checked in C:
    then it holds no control or format character (str.isprintable is False for both). Most
    text is; text that is not (a non-breaking space, say) is read character by character."""
    if line_breaks:
        value = value.replace("\r", "").replace("\n", "")
    return value.isprintable()


def single_line(value: str) -> str:
    """``value`` with its control and format characters and runs of spaces made one space: for
    mail subjects built from names stored before control characters were refused."""
    return " ".join("".join(" " if _is_control(char) else char for char in value).split())
