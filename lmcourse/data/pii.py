"""Masking personal information in web text: email addresses, US phone numbers and IPv4 addresses.

Each masker is `(text) -> (masked_text, count)`: every match is replaced by a fixed placeholder
(|||EMAIL_ADDRESS|||, |||PHONE_NUMBER|||, |||IP_ADDRESS|||) and `count` says how many were replaced.
`mask_pii` runs all three. No masker matches inside a placeholder, and masking twice changes nothing
(property tests check both). That takes care at the edges, since a match's neighbours see "|" after
masking where they saw its first or last character before: every pattern refuses to be followed by a
letter, digit or underscore, so no other match can start right after one, and the patterns that may
start right after such a character (a phone number's "+" or "(") do not look behind at all.

The patterns are deliberately plain regular expressions, the way pretraining pipelines (Dolma, the
CS336 assignment) do it: fast, and wrong in known ways that the tests pin down.
- Emails: local@domain.tld with the characters real addresses use; no quoted local parts, no IP-literal
  domains, no obfuscations ("jane at example dot com").
- Phones: North American numbers with 10 digits: (555) 123-4567, 555-123-4567, 555.123.4567,
  555 123 4567, 5551234567, each optionally after +1 or 1. A digit or letter right next to the number
  (or a dot before it) blocks it, so longer digit strings (order numbers, ISBNs) are left alone. Other
  countries' formats are left out.
- IPv4: dotted quads whose four octets are 0-255 written without leading zeros ("256.1.1.1" and
  "01.2.3.4" are not masked); a fifth number (1.2.3.4.5, a version string) or a letter glued in front
  ("v1.2.3.4") blocks it. IPv6 is left out.
"""

from __future__ import annotations

import re

__all__ = ["mask_emails", "mask_phone_numbers", "mask_ips", "mask_pii",
           "EMAIL_PLACEHOLDER", "PHONE_PLACEHOLDER", "IP_PLACEHOLDER"]

EMAIL_PLACEHOLDER = "|||EMAIL_ADDRESS|||"
PHONE_PLACEHOLDER = "|||PHONE_NUMBER|||"
IP_PLACEHOLDER = "|||IP_ADDRESS|||"

# The local part starts with a letter, digit or underscore and has no dot at either end; the domain is
# dot-separated labels ending in a 2+ letter top-level domain. The lookarounds stop a match from starting
# or ending mid-token.
_EMAIL = re.compile(
    r"(?<![\w.%+-])\w[A-Za-z0-9_%+-]*(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![\w-]|\.\w)", re.ASCII)

# An optional country code, then the area code in parentheses or as three digits followed by the
# separator the rest of the number uses. A number starting with a digit may not be glued to a word, a "+"
# or a dot (an email's ".digit" lookahead would see it); one starting with "+" or "(" may follow anything,
# because that character is itself a boundary (and a lookbehind there would see the last character of a
# match just masked, breaking idempotence).
_PHONE = re.compile(
    r"(?:\+1[ .-]?|(?<![\w+.])1[ .-]?|(?<![\w+.])(?=\d)|(?=\())"
    r"(?:\(\d{3}\)[ .-]?|\d{3}(?P<sep>[ .-]?))"
    r"\d{3}(?(sep)(?P=sep)|[ .-]?)\d{4}(?!\w)")

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Not glued to a word or a dot before ("v1.2.3.4", "x.1.2.3.4"), nor to a word or ".digit" after ("1.2.3.4.5").
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d)")


def _mask(fn: str, pattern: re.Pattern, placeholder: str, text) -> tuple[str, int]:
    if not isinstance(text, str):
        raise TypeError(f"{fn}: text={text!r:.80}; expected a str")
    return pattern.subn(placeholder, text)


def mask_emails(text: str) -> tuple[str, int]:
    """Replace every email address with |||EMAIL_ADDRESS|||; return (masked text, number replaced)."""
    return _mask("mask_emails", _EMAIL, EMAIL_PLACEHOLDER, text)


def mask_phone_numbers(text: str) -> tuple[str, int]:
    """Replace every US phone number with |||PHONE_NUMBER|||; return (masked text, number replaced)."""
    return _mask("mask_phone_numbers", _PHONE, PHONE_PLACEHOLDER, text)


def mask_ips(text: str) -> tuple[str, int]:
    """Replace every IPv4 address with |||IP_ADDRESS|||; return (masked text, number replaced)."""
    return _mask("mask_ips", _IPV4, IP_PLACEHOLDER, text)


def mask_pii(text: str) -> tuple[str, dict[str, int]]:
    """All three maskers, emails first (so "1.2.3.4@host.com"-like strings go as one email).

    Returns (masked text, {"email": n, "phone": n, "ip": n}).
    """
    counts = {}
    for name, masker in (("email", mask_emails), ("phone", mask_phone_numbers), ("ip", mask_ips)):
        text, counts[name] = masker(text)
    return text, counts
