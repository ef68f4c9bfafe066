"""The secret detectors: every kind on positive samples and on near misses that must not match; masking."""

from __future__ import annotations

import pytest

from dasshh_history.domain.secrets import (
    KINDS,
    Secret,
    find_secrets,
    mask,
    mask_text,
    redact,
)

# Made-up credentials of the right shapes, built in pieces so that no scanner takes this file for a leak.
R36 = "a1B2c3D4e5F6g7H8i9J0" + "k1L2m3N4o5P6q7R8"
GHP = "ghp" + "_" + R36
PAT = "github" + "_pat_" + "11ABCDEFG0" + "x" * 12 + "_" + "Yz9" * 19 + "Q2"
AWS = "AKIA" + "Z7Q2W4E6R8T0Y1U3"
GLPAT = "glpat" + "-" + "xY3_zW9-aB7cD5eF1gH2"
SLACK = "xoxb" + "-1234567890123-9876543210-" + "AbCdEfGhIjKlMnOpQrStUvWx"
HOOK = "https://hooks.slack.com/services/" + "T0123ABCD/B0456EFGH/" + "aBcDeFgHiJkLmNoPqRsTuVwX"
STRIPE = "sk" + "_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
STRIPE_TEST = "rk" + "_test_" + "51H8kX2Lq9ZpR7vNm3Tb"
OPENAI = "sk" + "-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7"
OPENAI_OLD = "sk" + "-" + "T3BlbkFJ" + "a8Yq2Lm4Nx6Pr0St2Uv4Wx6Yz8Ab0Cd2Ef4Gh"
ANTHROPIC = "sk" + "-ant-api03-" + "Zx9_Yw8-Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8Ba7" + "Q" * 20 + "-AA"
KEY_BODY = "MIIEowIBAAKCAQEA7bq9" + "x" * 60 + "\n" + "Qm9ndXMga2V5IGJvZHk=" * 3 + "\n"
RSA = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + KEY_BODY + "-----END RSA " + "PRIVATE KEY-----"
OPENSSH = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n" + KEY_BODY + "-----END OPENSSH " + "PRIVATE KEY-----"
JWT = "eyJ" + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ" + "." + (
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


def kinds(text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.value) for s in find_secrets(text)]


POSITIVE = [
    (f"export GITHUB_TOKEN={GHP}", [("github", GHP)]),
    (f"token {PAT} expires", [("github", PAT)]),
    (f"aws_access_key_id = {AWS}", [("aws", AWS)]),
    (f'"{AWS}"', [("aws", AWS)]),
    (f"git clone https://oauth2:{GLPAT}@gitlab.com/x/y.git", [("gitlab", GLPAT)]),
    (f"SLACK_BOT_TOKEN={SLACK}", [("slack", SLACK)]),
    (f"curl -X POST {HOOK} -d @msg.json", [("slack", HOOK)]),
    (f"stripe.api_key = '{STRIPE}'", [("stripe", STRIPE)]),
    (f"key: {STRIPE_TEST}", [("stripe", STRIPE_TEST)]),
    (f"OPENAI_API_KEY={OPENAI}", [("openai", OPENAI)]),
    (f"use {OPENAI_OLD} here", [("openai", OPENAI_OLD)]),
    (f"ANTHROPIC_API_KEY={ANTHROPIC}", [("anthropic", ANTHROPIC)]),
    (f"cat id_rsa\n{RSA}\n$ ", [("private-key", RSA)]),
    (f"{OPENSSH}", [("private-key", OPENSSH)]),
    ("-----BEGIN " + "PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n",
     [("private-key", "-----BEGIN " + "PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7")]),
    (f"Authorization: Bearer {JWT}", [("jwt", JWT)]),
    ("Authorization: Bearer a8f5f167f44f4964e6c998dee827110c", [("bearer", "a8f5f167f44f4964e6c998dee827110c")]),
    ("DATABASE_URL=postgres://app:S3cr3t-pw@db.internal:5432/app", [("url-password", "S3cr3t-pw")]),
    ("redis://:hunter22@localhost:6379/0", [("url-password", "hunter22")]),
    ("PASSWORD=hunter2!", [("password", "hunter2!")]),
    ('{"db_password": "correct horse battery"}', [("password", "correct horse battery")]),
    ("MYSQL_ROOT_PASSWORD: Tr0ub4dor&3", [("password", "Tr0ub4dor&3")]),
    ("export DJANGO_SECRET_KEY='k9#x!2m@z8w$q1'", [("assignment", "k9#x!2m@z8w$q1")]),
    ("webhook_secret := \"whsec_9aXbYcZd8eFg\"", [("assignment", "whsec_9aXbYcZd8eFg")]),
    ("api-token: 0f8e2d9c7b6a5f4e3d2c", [("assignment", "0f8e2d9c7b6a5f4e3d2c")]),
    ('"apiKey": "AbCdEfGh12345678"', [("assignment", "AbCdEfGh12345678")]),
    ("SENTRY_AUTH_TOKEN=sntrys_eyJpYXQiOjE2ODQ", [("assignment", "sntrys_eyJpYXQiOjE2ODQ")]),
    (f"two: {GHP} and {AWS}", [("github", GHP), ("aws", AWS)]),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVE, ids=range(len(POSITIVE)))
def test_finds_each_kind(text: str, expected: list[tuple[str, str]]):
    assert kinds(text) == expected
    for secret in find_secrets(text):
        assert text[secret.start:secret.end] == secret.value


def test_every_kind_has_a_positive_sample():
    assert {kind for _, found in POSITIVE for kind, _ in found} == set(KINDS)


NEAR_MISSES = [
    # aws: too short, lower case, inside a longer word
    "AKIA" + "Z7Q2W4E6R8T0Y1U", "akia" + "z7q2w4e6r8t0y1u3", "XAKIA" + "Z7Q2W4E6R8T0Y1U3",
    # github: too short, unknown prefix, glued to more characters
    "ghp_" + R36[:35], "ghx_" + R36, "ghp_" + R36 + "Z",
    "github_pat_short",
    # gitlab / slack / stripe
    "glpat-short", "glpat-" + "x" * 10, "xoxb-notanumber-abc", "xoxq-1234567890-abcdefghijk",
    "https://hooks.slack.com/services/", "sk_live_short", "pk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "sk_prod_4eC39HqLyjWDarjtT1zdp7dc",
    # openai / anthropic: prose and package names
    "pip install scikit-learn-intelex; sk-learn-is-a-nickname-for-it", "task-management-and-scheduling-system",
    "sk-" + "a" * 30, "sk-ant-short",
    # private keys: public keys and certificates are not secrets
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host", "the word PRIVATE KEY in prose",
    # jwt: two parts, or not JSON
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0", "abc.def.ghi", "eyJhbGciOiJIUzI1NiJ9.notjson.sig",
    # urls: no password, a port, placeholders
    "https://user@example.com/path", "http://localhost:8080/api", "postgres://user:${DB_PASSWORD}@db/app",
    "postgres://user:password@localhost/db", "mysql://root:****@db/x", "https://user:<password>@host",
    "ssh git@github.com:owner/repo.git",
    # assignments: variables, calls, placeholders, identifiers, numbers, names that are no secrets
    "API_KEY=$API_KEY", "GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}", "password = getpass()",
    "password = os.environ['PASSWORD']", "SECRET_KEY = settings.SECRET_KEY", 'token = "<your token here>"',
    '"token": null', "OPENAI_API_KEY=your-api-key", "api_key='xxxxxxxxxxxx'", "password: ********",
    "sort_key=lambda item: item.name", "PRIMARY_KEY=id", "max_tokens=4096", "MAX_TOKEN=4096",
    "public_key: ssh-ed25519AAAAC3", "ssh_public_key=abcdefghijklmnop1", "api_key=None", "secret = False",
    "tokenizer=gpt2", "monkey=banana123456", "keyboard: qwertyuiop123", "key=value12345678",
    "next_token=abcdef0123456789", "password=", "the password is: something", 'auth_token = "[REDACTED:assignment]"',
    "access_token: string_type_name", "client_secret = MY_CLIENT_SECRET", "secret: myVariableName",
    "Bearer tokens are short lived", "Authorization: Bearer ${TOKEN}", "Authorization: Bearer aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_secrets(text: str):
    assert find_secrets(text) == []


@pytest.mark.parametrize("value", [None, 3, b"AKIAZ7Q2W4E6R8T0Y1U3", ["x"]])
def test_only_text_is_scanned(value):
    assert find_secrets(value) == []  # type: ignore[arg-type]


def test_hostile_text_is_scanned_quickly_without_error():
    huge = ("key=" * 50_000) + ("-----BEGIN " + "PRIVATE KEY-----" + "A" * 30_000) + ("sk-" * 20_000) + "://" * 20_000
    secrets = find_secrets(huge)
    assert [s.kind for s in secrets] == ["private-key"]
    assert find_secrets("\x00\ud800 " + GHP + " \u202e") == [Secret("github", 3, 3 + len(GHP), GHP)]


def test_masks_keep_the_prefix_and_the_last_four():
    assert mask(GHP, "github") == "ghp_…q7R8"
    assert mask(AWS, "aws") == "AKIA…Y1U3"
    assert mask(OPENAI, "openai") == "sk-proj-…oQ7"[:-3] + OPENAI[-4:]
    assert mask(ANTHROPIC, "anthropic") == "sk-ant-api03-…" + ANTHROPIC[-4:]
    assert mask(STRIPE, "stripe") == "sk_live_…p7dc"
    assert mask(RSA, "private-key") == "-----BEGIN RSA PRIVATE KEY-----…"
    assert mask("hunter2!", "password") == "…"  # too short to show any of it
    assert mask("0f8e2d9c7b6a5f4e3d2c", "assignment") == "…2c"
    assert mask("0f8e2d9c7b6a5f4e3d2c11aa33", "assignment") == "…33"[:-2] + "aa33"


def test_masked_and_redacted_text_hold_no_secret():
    text = f"GITHUB_TOKEN={GHP}\nPASSWORD=hunter2!\nhttps://u:S3cr3t-pw@h/ and {RSA}"
    masked = mask_text(text)
    redacted = redact(text)
    for secret in (GHP, "hunter2!", "S3cr3t-pw", KEY_BODY.strip()):
        assert secret not in masked and secret not in redacted
    assert redacted == ("GITHUB_TOKEN=[REDACTED:github]\nPASSWORD=[REDACTED:password]\n"
                        "https://u:[REDACTED:url-password]@h/ and [REDACTED:private-key]")
    assert find_secrets(redacted) == []  # redacting twice changes nothing
