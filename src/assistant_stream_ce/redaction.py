"""The one rule for keeping secrets out of any text that leaves the process.

`redact` removes, case-insensitively: every occurrence of a secret; every word-like token that
shares four or more consecutive characters with a secret of eight characters or more (masked
echoes such as ``sk-ab*****wxyz`` leave such fragments); and credentials that look like
credentials whoever they belong to (``Bearer …``, ``x-api-key: …``, ``sk-…`` keys).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["REDACTED", "redact"]

REDACTED = "[redacted]"

# A token of the text that shares this many consecutive characters with a secret is redacted.
_MIN_SHARED = 4
# Secrets shorter than this are only redacted as a whole (short fragments would hit ordinary words).
_MIN_FRAGMENT_SECRET = 8

_TOKEN = re.compile(r"[A-Za-z0-9_\-.+/=*]+")
_PATTERNS = [
    # "Bearer <token>", "Basic <credentials>"
    (re.compile(r"(?i)\b(bearer|basic)\s+(?!\[redacted\])[^\s,;\"'}]+"), r"\1 " + REDACTED),
    # header or parameter dumps: "x-api-key: …", "api_key=…", "Authorization: …"
    (
        re.compile(
            r"(?i)\b(x-api-key|api[-_]?key|authorization|x-goog-api-key)(\"?\s*[:=]\s*\"?)"
            r"(?!\[redacted\]|(?:bearer|basic)\s)[^\s,;\"'}]+"
        ),
        r"\1\2" + REDACTED,
    ),
    # OpenAI / Anthropic style secrets, also when masked by the provider ("sk-ab***wxyz")
    (re.compile(r"\b(sk-(?:ant-|proj-)?)(?!\[redacted\])[A-Za-z0-9_\-*]{3,}"), r"\1" + REDACTED),
]


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given secrets (whole, in part, in any case) or credential patterns."""
    keys = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
    for key in keys:
        text = re.sub(re.escape(key), REDACTED, text, flags=re.IGNORECASE)
    fragments = {
        key[i : i + _MIN_SHARED]
        for key in (key.lower() for key in keys if len(key) >= _MIN_FRAGMENT_SECRET)
        for i in range(len(key) - _MIN_SHARED + 1)
    }
    if fragments:

        def shares_fragment(match: re.Match[str]) -> str:
            token = match.group()
            if len(token) >= _MIN_SHARED and token != REDACTED:
                lowered = token.lower()
                for start in range(len(lowered) - _MIN_SHARED + 1):
                    if lowered[start : start + _MIN_SHARED] in fragments:
                        return REDACTED
            return token

        text = _TOKEN.sub(shares_fragment, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
