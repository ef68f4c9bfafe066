"""Likely credentials in text: a documented set of patterns, and how a found secret is shown masked.

Each kind below is what its issuer documents (or what gitleaks and
detect-secrets, the well-kept detectors, match for it), tightened where plain
text would otherwise match:

============== ================================================================================
kind           matches
============== ================================================================================
aws            AWS access key ids: ``AKIA``/``ASIA``/``ABIA``/``ACCA`` and 16 upper-case letters or digits
github         GitHub tokens: ``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_`` and 36 letters or digits;
               fine-grained ``github_pat_`` and 82 word characters
gitlab         GitLab personal access tokens: ``glpat-`` and 20 or more letters, digits, ``_``, ``-``
slack          Slack tokens ``xoxb-``/``xoxa-``/``xoxp-``/``xoxr-``/``xoxs-`` (numbers, then letters and digits),
               and incoming-webhook URLs ``https://hooks.slack.com/services/T…/B…/…``
stripe         Stripe secret and restricted keys, live and test: ``sk_live_``/``rk_live_``/``sk_test_``/``rk_test_``
openai         OpenAI-style API keys: ``sk-`` (or ``sk-proj-``, ``sk-svcacct-``, ``sk-admin-``) and 20 or more
               letters, digits, ``_``, ``-``, mixing digits, upper and lower case (so ``sk-learn-…`` prose is not one)
anthropic      Anthropic API keys: ``sk-ant-`` and 32 or more letters, digits, ``_``, ``-``
private-key    private key blocks, ``-----BEGIN … PRIVATE KEY-----`` to its ``-----END … PRIVATE KEY-----``
               (or to the end of the base64 that follows, when the end line is missing)
jwt            JSON Web Tokens: three base64url parts, the first two starting ``eyJ`` (a JSON object)
url-password   the password of ``scheme://user:password@host``
password       the value of a ``password``/``passwd``/``pwd`` assignment
assignment     the value of a ``*_KEY``/``*_TOKEN``/``*_SECRET``/``token``/``secret``/``apikey`` assignment
bearer         the token of ``Authorization: Bearer …``
============== ================================================================================

Assignments are ``NAME=value``, ``NAME: value``, ``NAME := value``, ``export NAME=value``,
``"name": "value"`` (JSON, YAML, TOML, env files, shell), any case.  A value is only taken for a secret
when it is not code or a placeholder: variables (``$TOKEN``, ``${{ secrets.X }}``, ``%KEY%``), calls
(``getpass()``), attribute paths (``settings.SECRET_KEY``), plain identifiers, ``<your key>``, ``xxxx``,
``****``, ``null``, numbers; and a key, token or secret value must hold 8 characters or more, a digit or
both cases.  Names such as ``sort_key``, ``primary_key``, ``max_tokens`` or ``public_key`` are not secrets.

High-entropy strings are not looked for: on agent histories (hashes, ids, base64 payloads, minified
code) the entropy detectors mostly find what is no secret (README, "Privacy", has the numbers).

Pure: the standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from dasshh_history.domain.secret_marks import mark

#: A readable name for each kind, in the order of the table above.
KINDS: dict[str, str] = {
    "aws": "AWS access key",
    "github": "GitHub token",
    "gitlab": "GitLab token",
    "slack": "Slack token",
    "stripe": "Stripe key",
    "openai": "OpenAI-style API key",
    "anthropic": "Anthropic API key",
    "private-key": "private key block",
    "jwt": "JSON Web Token",
    "url-password": "password in a URL",
    "password": "password assignment",
    "assignment": "key/token/secret assignment",
    "bearer": "bearer token",
}

#: Longest private key block looked for (an 8192-bit RSA key in PEM is about 6,500 characters).
MAX_KEY_BLOCK = 20_000
#: Longest value taken from an assignment.
MAX_VALUE = 500


@dataclass(frozen=True, slots=True)
class Secret:
    """A likely credential in a text: its kind and where (``text[start:end]`` is the secret itself)."""

    kind: str
    start: int
    end: int
    value: str

    @property
    def masked(self) -> str:
        return mask(self.value, self.kind)


# Tokens with a known shape: the whole match is the secret.  Each pattern starts with its literal prefix, so
# that ``re`` skips to it at C speed, and only then looks behind it (the character before must not be one of
# the token's own: inside a long run of token characters each start is refused at once, never read on).
# Every repetition is possessive: a run that does not fit is not tried again shorter (linear in the text).
_TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws", re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)(?<![A-Za-z0-9]....)[A-Z0-9]{16}+(?![A-Za-z0-9])")),
    ("github", re.compile(r"(?:gh[pousr]_(?<![A-Za-z0-9_]....)[A-Za-z0-9]{36}+"
                          r"|github_pat_(?<![A-Za-z0-9_]github_pat_)\w{82}+)(?![A-Za-z0-9_])")),
    ("gitlab", re.compile(r"glpat-(?<![A-Za-z0-9_-]glpat-)[A-Za-z0-9_-]{20,200}+(?![A-Za-z0-9_-])")),
    ("slack", re.compile(r"xox[baprs]-(?<![A-Za-z0-9_-].....)[0-9]{6,20}+-[A-Za-z0-9-]{8,200}+(?![A-Za-z0-9_-])")),
    ("slack", re.compile(r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]{6,20}+/B[A-Za-z0-9_]{6,20}+/"
                         r"[A-Za-z0-9_]{16,40}+")),
    ("stripe", re.compile(r"[sr]k_(?:live|test)_(?<![A-Za-z0-9_]........)[A-Za-z0-9]{16,200}+(?![A-Za-z0-9_])")),
    ("anthropic", re.compile(r"sk-ant-(?<![A-Za-z0-9_-]sk-ant-)[A-Za-z0-9_-]{32,300}+(?![A-Za-z0-9_-])")),
    ("openai", re.compile(r"sk-(?<![A-Za-z0-9_-]sk-)(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,300}+"
                          r"(?![A-Za-z0-9_-])")),
    ("jwt", re.compile(r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,4000}+\.eyJ[A-Za-z0-9_-]{8,8000}+\."
                       r"[A-Za-z0-9_-]{16,2000}+(?![A-Za-z0-9_-])")),
)
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_KEY_BLOCK = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]{1,20} ){0,3})PRIVATE KEY(?: BLOCK)?-----"
    r"(?:[A-Za-z0-9+/=\s:,.\\]|-(?!-)){0,_N}+(?:-----END \1PRIVATE KEY(?: BLOCK)?-----)?".replace("_N", str(MAX_KEY_BLOCK))
)
_URL_PASSWORD = re.compile(r"://[^\s:/@\"'<>]{0,100}:([^\s/@\"'<>]{1,200})@[A-Za-z0-9\[]")
_BEARER = re.compile(r"[Bb]earer\s{1,3}([A-Za-z0-9._~+/-]{20,2000}+=*+)(?![A-Za-z0-9._~+/=-])")
# An assignment is found from its name's last word and the separator after it; the name is read backwards.
_NAME_END = re.compile(rb"(?:key|token|secret|passw(?:or)?d|pwd)(?=[\"']?[ \t]{0,3}(?::=|[:=]))")  # in _folded
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")
_VALUE = re.compile(
    r"[\"']?[ \t]{0,3}(?::=|[:=])[ \t]{0,3}"
    r"(?:\"([^\"\n]{1,_N})\"|'([^'\n]{1,_N})'|([^\s\"'`,;)}\]]{1,_N}))".replace("_N", str(MAX_VALUE))
)
# Anything that could start a secret; text without it is skipped at C speed.
# Anything that could start a secret, looked for in the text's ASCII-lower-cased bytes (see _folded): text
# without any is skipped at C speed.
_ANY = re.compile(
    rb"akia|asia|abia|acca|gh[pousr]_|github_pat_|glpat-|xox[baprs]-|hooks\.slack|k_live_|k_test_|sk-|eyj|"
    rb"private key|://|key|token|secret|passw|pwd|bearer"
)

_PASSWORD_NAMES = ("password", "passwd", "pwd")
_SECRET_NAMES = ("_key", "apikey", "secretkey", "accesskey", "privatekey", "token", "secret")
# The word before ``_key`` / ``_token`` that makes a name no secret.
_NOT_SECRET_WORDS = frozenset((
    "sort", "primary", "foreign", "partition", "cache", "public", "lookup", "group", "dict", "hash", "map", "item",
    "row", "column", "object", "unique", "composite", "index", "idempotency", "next", "page", "continuation", "sync",
    "cancellation", "max", "num", "total", "input", "output", "completion", "prompt", "eos", "bos", "pad", "unk",
    "sep", "cls", "mask", "start", "end", "stop", "default", "keyboard", "hot", "short", "shortcut",
))
_PLACEHOLDER = re.compile(
    r"(?i)(?:none|null|nil|true|false|undefined|empty|redacted|changeme|example|placeholder|secret|token|password|"
    r"passwd|your[_-].*|my[_-].*|<.*>|\[.*\]|x+|\*+|\.+|-+|#+|•+|…|\?+)"
)
# Code rather than a value: a variable, a template, a call, an attribute path.
_CODE = re.compile(r"^[$%{<\[]|\$\{|\{\{|\(|\w\[|^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
# Words rather than a value: snake_case, UPPER_CASE, camelCase, PascalCase, kebab-case, numbers.
_IDENTIFIER = re.compile(r"[a-z_]+|[A-Z_]+|[A-Z]?[a-z]+(?:[A-Z][a-z]+)+|[A-Za-z]+(?:-[A-Za-z]+)+|[0-9.]+")


def find_secrets(text: str) -> list[Secret]:
    """The likely credentials in ``text``, in order, none overlapping (a token's own kind wins over an assignment)."""
    if type(text) is not str:
        return []
    folded = _folded(text)
    if not _ANY.search(folded):
        return []
    found: list[Secret] = []
    for kind, pattern in _TOKEN_PATTERNS:
        for match in pattern.finditer(text):
            value = match.group()
            if kind == "openai" and not _mixed(value[3:]):
                continue
            found.append(Secret(kind, match.start(), match.end(), value))
    if "PRIVATE KEY" in text:
        for match in _KEY_BLOCK.finditer(text):
            end = match.end()
            while end > match.start() and text[end - 1].isspace():
                end -= 1
            found.append(Secret("private-key", match.start(), end, text[match.start():end]))
    if "://" in text:
        for match in _URL_PASSWORD.finditer(text):
            if _is_value(match.group(1), password=True):
                found.append(Secret("url-password", match.start(1), match.end(1), match.group(1)))
    for match in _BEARER.finditer(text):
        if match.start() and text[match.start() - 1] in _WORD:
            continue
        if _mixed(match.group(1)) or _has_digit(match.group(1)):
            found.append(Secret("bearer", match.start(1), match.end(1), match.group(1)))
    found.extend(_assignments(text, folded))
    return _without_overlaps(found)


def may_hold_secret(text: str) -> bool:
    """Whether ``text`` may hold a secret at all: a quick test (C speed) that most texts fail."""
    return _ANY.search(_folded(text)) is not None


def _folded(text: str) -> bytes:
    """``text`` as bytes of the same length, ASCII letters lower-cased and any other character but Latin-1
    a ``?``: one byte per character, so that a match's span there is its span in ``text``, and case-blind
    literal searches run at C speed (``re.IGNORECASE`` tries every position, 20 times slower)."""
    return text.encode("latin-1", "replace").lower()


def redact(text: str, secrets: list[Secret] | None = None) -> str:
    """``text`` with each secret replaced by ``[REDACTED:kind]``."""
    return _replace(text, secrets, lambda secret: placeholder(secret.kind))


def placeholder(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def mask_text(text: str, secrets: list[Secret] | None = None) -> str:
    """``text`` with each secret shown masked (``ghp_…9f3a``)."""
    return _replace(text, secrets, lambda secret: secret.masked)


def _replace(text: str, secrets: list[Secret] | None, by: Callable[[Secret], str]) -> str:
    """``text`` with each secret (those :func:`find_secrets` finds, when None) replaced by ``by(secret)``."""
    if secrets is None:
        secrets = find_secrets(text)
    for secret in sorted(secrets, key=lambda s: s.start, reverse=True):
        text = f"{text[:secret.start]}{by(secret)}{text[secret.end:]}"
    return text


def mask_title(detail: object, *, marked: bool = False) -> object:
    """A stored title with each secret masked when it is text; anything else as it is.  With ``marked``,
    each masked secret is between the invisible marks of :mod:`~dasshh_history.domain.secret_marks` (the
    session list draws it apart)."""
    if type(detail) is not str:
        return detail
    return _replace(detail, None, lambda secret: mark(secret.masked)) if marked else mask_text(detail)


_PREFIXES = re.compile(
    r"AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_|glpat-|xox[baprs]-|https://hooks\.slack\.com/services/|"
    r"[sr]k_(?:live|test)_|sk-ant-(?:api\d\d-|admin\d\d-)?|sk-(?:proj-|svcacct-|admin-)?|eyJ"
)


def mask(value: str, kind: str) -> str:
    """A secret shown without giving it away: its public prefix, an ellipsis and its last 4 characters.

    ``ghp_…9f3a``; a key block keeps its first line; a value without a known
    prefix shorter than 16 characters shows none of its characters (``…``), one
    shorter than 24 only its last 2.
    """
    if kind == "private-key":
        first = value.split("\n", 1)[0].strip()
        return f"{first[:60]}…"
    prefix = ""
    if kind not in ("password", "url-password", "assignment", "bearer"):
        match = _PREFIXES.match(value)
        prefix = match.group() if match else ""
    rest = len(value) - len(prefix)
    tail = 4 if rest >= 24 or (prefix and rest >= 12) else 2 if rest >= 16 else 0
    return f"{prefix}…{value[len(value) - tail:] if tail else ''}"


def _assignments(text: str, folded: bytes) -> list[Secret]:
    found = []
    for match in _NAME_END.finditer(folded):
        start = match.start()
        while start > 0 and _NAME_CHAR.match(text, start - 1):
            start -= 1
        kind = _name_kind(text[start:match.end()])
        if kind is None:
            continue
        value = _VALUE.match(text, match.end())
        if value is None:
            continue
        group = next(i for i in (1, 2, 3) if value.group(i) is not None)
        if _is_value(value.group(group), password=kind == "password"):
            found.append(Secret(kind, value.start(group), value.end(group), value.group(group)))
    return found


def _name_kind(name: str) -> str | None:
    name = name.lower().replace("-", "_").replace(".", "_").strip("_")
    if name.endswith(_PASSWORD_NAMES):
        return "password"
    if not name.endswith(_SECRET_NAMES):
        return None
    for ending in ("_key", "_token", "token", "key"):
        if name.endswith(ending):
            word = name[: -len(ending)].rstrip("_").rsplit("_", 1)[-1]
            if word in _NOT_SECRET_WORDS or name[: -len(ending)].rstrip("_") in _NOT_SECRET_WORDS:
                return None
            break
    return "assignment"


def _is_value(value: str, *, password: bool) -> bool:
    value = value.strip()
    if len(value) < (4 if password else 8) or value.startswith("[REDACTED:"):
        return False
    if _PLACEHOLDER.fullmatch(value) or _CODE.search(value):
        return False
    if password:
        return not value.isdigit() or len(value) >= 6
    return not _IDENTIFIER.fullmatch(value) and (_has_digit(value) or _mixed_case(value))


def _has_digit(value: str) -> bool:
    return any(c.isdigit() for c in value)


def _mixed_case(value: str) -> bool:
    return any(c.islower() for c in value) and any(c.isupper() for c in value)


def _mixed(value: str) -> bool:
    """Random-looking: digits, upper and lower case letters all present."""
    return _has_digit(value) and _mixed_case(value)


def _without_overlaps(found: list[Secret]) -> list[Secret]:
    """In order; of overlapping ones the specific kinds win over the generic ones, then the longer one.

    Overlapping secrets are settled cluster by cluster (spans that overlap in a chain), so that many
    findings in one huge text cost a sort, not a comparison of every pair.
    """
    ordered = sorted(found, key=lambda s: s.start)
    kept: list[Secret] = []
    cluster: list[Secret] = []
    cluster_end = -1
    for secret in ordered:
        if cluster and secret.start >= cluster_end:
            kept.extend(_settle(cluster))
            cluster = []
        cluster.append(secret)
        cluster_end = max(cluster_end, secret.end) if len(cluster) > 1 else secret.end
    kept.extend(_settle(cluster))
    return kept


_GENERIC = {"password": 1, "assignment": 1, "bearer": 1, "url-password": 1}


def _settle(cluster: list[Secret]) -> list[Secret]:
    if len(cluster) < 2:
        return cluster
    kept: list[Secret] = []
    for secret in sorted(cluster, key=lambda s: (_GENERIC.get(s.kind, 0), -(s.end - s.start), s.start)):
        if all(secret.end <= other.start or secret.start >= other.end for other in kept):
            kept.append(secret)
    return sorted(kept, key=lambda s: s.start)
