"""Our own secret rules: what detect-secrets' plugins do not cover, or cover in a shape logs do not
use. Pure: no Django.

A rule yields the spans of secret values in a text; `redact.py` replaces them. Rules find only the
value: the key name, flag, scheme, user and host stay, so a human can still tell which credential
was involved. Every rule skips placeholders (`None`, `***`, `${VAR}`, `[REDACTED]`, ...), which
are evidence that a credential was missing or masked, and which makes redaction idempotent.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

Span = tuple[int, int]


@dataclass(frozen=True)
class Rule:
    """`find` yields secret spans; it runs only when the lowercased text holds one of `needles`
    (the cheap pre-check that keeps redaction fast on the common line with no secret at all;
    `""` runs it on every text)."""

    name: str
    needles: tuple[str, ...]
    find: Callable[[str], Iterator[Span]]
    # A regex that must match somewhere for `find` to yield anything: a regex rule's own pattern,
    # tried once before the finder's per-match work.
    gate: re.Pattern[str] | None = None
    # Runs on the whole text (a private key block spans lines); every other rule runs per line.
    multiline: bool = False


# Values that are not secrets: missing, masked or templated credentials (evidence, kept).
_PLACEHOLDER = re.compile(
    r"(?i)(?:|none|null|nil|undefined|true|false|yes|no|\*{3,}.*|x{3,}|\[redacted\]|redacted"
    r"|<[^>]*>|\$\{.*|(?-i:\$[A-Z_][A-Z0-9_]*)|\{\{.*|%\(.*|\[(?:hidden|masked|filtered)\]|\(hidden\))"
)
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_-]")
_LEADING = " \t\r\n\"'=:"
_TRAILING = " \t\r\n\"'"


def is_placeholder(value: str) -> bool:
    return _PLACEHOLDER.fullmatch(value.strip()) is not None


def shannon_entropy(value: str) -> float:
    """Bits per character."""
    if not value:
        return 0.0
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())


def _classes(value: str) -> tuple[bool, bool, bool]:
    return (
        any(c.isupper() for c in value),
        any(c.islower() for c in value),
        any(c.isdigit() for c in value),
    )


_SEGMENTS = re.compile(r"[/._:\-]")
_HEX = re.compile(r"[0-9a-fA-F]+")


def looks_random(value: str) -> bool:
    """A generated credential rather than a word, path, identifier or timestamp: some segment
    (between `/ . _ : -`) mixes upper, lower and digits with entropy to match, or the value is a
    long hex string (keys, tokens, uuids), or a long lowercase base32/base36 blob."""
    for segment in _SEGMENTS.split(value):
        upper, lower, digit = _classes(segment)
        if len(segment) >= 12 and upper and lower and digit and shannon_entropy(segment) >= 3.0:
            return True
        if len(segment) >= 20 and lower and not upper and sum(c.isdigit() for c in segment) >= 3:
            return shannon_entropy(segment) >= 3.5
    plain = value.replace("-", "")
    if len(plain) >= 20 and _HEX.fullmatch(plain):
        _, lower, digit = _classes(plain.lower())
        return lower and digit and shannon_entropy(plain) >= 3.0
    return False


def _has_digit_and_letter(value: str) -> bool:
    upper, lower, digit = _classes(value)
    return digit and (upper or lower)


def widen(text: str, start: int, end: int) -> Span:
    """Grow a token match over adjacent token characters: a detector's fixed-length pattern must
    not leave the tail of a longer token of the same kind behind."""
    while start > 0 and _TOKEN_CHAR.match(text, start - 1):
        start -= 1
    while end < len(text) and _TOKEN_CHAR.match(text, end):
        end += 1
    return start, end


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start] in _LEADING:
        start += 1
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return start, end


def regex_rule(
    name: str,
    needles: tuple[str, ...],
    pattern: re.Pattern[str],
    group: int | str = 0,
    check: Callable[[str], bool] | None = None,
    grow: bool = False,
) -> Rule:
    """A rule from a regex whose `group` is the secret (0: the whole match)."""

    def find(text: str) -> Iterator[Span]:
        for match in pattern.finditer(text):
            start, end = match.span(group)
            if start < 0 or start == end:
                continue
            value = text[start:end]
            if group == 0:  # a whole match may carry its delimiters (` AKC... `, `"..."`)
                start, end = _trim(text, start, end)
                value = text[start:end]
            if is_placeholder(value) or (check is not None and not check(value)):
                continue
            yield widen(text, start, end) if grow else (start, end)

    return Rule(name, needles, find, gate=pattern)


# --- private keys -----------------------------------------------------------------------------

_LINE_BREAK = r"(?:\s|\\+[nr])"  # a real line break, or `\n` / `\\n` inside JSON strings
# The BEGIN line and the key body that follows it (to END, or to the first chunk that is not key
# material when the block was cut). Chunks are separated by line breaks, so matching is linear.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    rf"(?:{_LINE_BREAK}+(?:[A-Za-z0-9+/]{{8,}}={{0,2}}|[\w-]+: [^\n\\\"]*))*"
    rf"(?:{_LINE_BREAK}+-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\\+[nr])?)?"
)
# A lone PEM body line (60+ mixed base64 characters), such as the rest of a key a cut left behind.
_KEY_BODY_LINE = re.compile(
    r"^[ \t]*(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*\d)"
    r"[A-Za-z0-9+/]{60,}={0,2}[ \t]*$",
    re.MULTILINE,
)

# --- URLs -------------------------------------------------------------------------------------

# A webhook URL is itself the credential: keep the service's host and fixed path, drop the rest.
_WEBHOOK = re.compile(
    r"(?i)\bhttps?://(?:hooks\.slack\.com/(?:services|workflows|triggers)/"
    r"|(?:ptb\.|canary\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/"
    r"|[\w-]+\.webhook\.office\.com/webhookb2/)"
    r"(?P<secret>[^\s\"'<>()\[\]]+)"
)
# scheme://user:password@host. The password may hold `@`: it runs to the LAST `@` before the host.
_URL_PASSWORD = re.compile(
    r"(?<![\w+.-])[a-zA-Z][\w+.-]*://[^\s:/@'\"<>]*:(?P<secret>[^\s/;'\"<>]+)@(?=[\w\[])",
)
# scheme://TOKEN@host: a generated user name is a token (GitHub, Sentry DSN keys, ...).
_URL_TOKEN_USER = re.compile(r"(?<![\w+.-])[a-zA-Z][\w+.-]*://(?P<secret>[A-Za-z0-9_-]{20,})@(?=[\w\[])")

# --- headers and flags ------------------------------------------------------------------------

_AUTH_HEADER = re.compile(
    r"(?i)(?:\b|(?<=\\[rn]))(?:proxy-)?authorization\b[\"']?[ \t]*[:=][ \t]*[\"']?"
    r"(?:(?:bearer|basic|token|digest)[ \t]+)?"
    r"(?P<secret>(?!(?:bearer|basic|token|digest)\s)[^\s\"',;\\]+)"
)
_BEARER = re.compile(r"(?i)\bbearer[ \t]+(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)")
_CREDENTIAL_FLAGS = (
    r"password|passwd|pass|pwd|passphrase|passin|passout|storepass|keypass|secret|token"
    r"|api[-_]?key|access[-_]?key|secret[-_]?key|client[-_]?secret|auth[-_]?token"
)
# --password X, --password=X, -storepass X, and the argv-list form '--password', 'X'.
_CLI_FLAG = re.compile(
    rf"(?i)(?<![\w-])--?(?:[a-z0-9]+[-_])*(?:{_CREDENTIAL_FLAGS})(?:=|[ \t]+|['\"],[ \t]*)"
    r"(?!-)(?P<q>['\"]?)(?P<secret>[^\s'\"]+)(?P=q)"
)
_MYSQL_P = re.compile(
    r"\b(?:mysql(?:dump|admin|import|sh)?|mariadb(?:-dump)?)\b[^\n]{0,200}?[ \t]-p(?P<secret>[^\s'\"]+)"
)
_SSHPASS_P = re.compile(r"\bsshpass[ \t]+-p[ \t]*(?P<secret>[^\s'\"]+)")
_REDIS_CLI_A = re.compile(r"\bredis-cli\b[^\n]{0,200}?[ \t]-a[ \t]+(?P<secret>[^\s'\"]+)")
_CURL_USER = re.compile(r"(?<!\S)(?:-u|--user)(?:[ \t]+|=)['\"]?[^\s:'\"]+:(?P<secret>[^\s'\"]+)")
# requests' auth=('user', 'password')
_AUTH_TUPLE = re.compile(
    r"\bauth[ \t]*=[ \t]*\([ \t]*(?P<q1>['\"])[^'\"\n]*(?P=q1)[ \t]*,"
    r"[ \t]*(?P<q2>['\"])(?P<secret>[^'\"\n]+)(?P=q2)"
)

# --- key/value pairs --------------------------------------------------------------------------

# name = value, name: value, "name": "value", 'name': 'value', name => value, and the same inside
# an escaped JSON string (\"name\": \"value\"), escaped again when that JSON is itself a string in
# JSON (a flow run JSON-encoded in a webhook body: three backslashes, then seven, ...). A quoted
# value runs to its closing quote, escaped as its opening one is.
# URL-encoded too, as in a URL passed inside another (`redirect_uri=...%3Ftoken%3D...`) or
# SQLAlchemy's `odbc_connect=...%3BPWD%3D...`: a name may follow an encoded character, `%3D` is
# the separator, and an encoded `& ; , ) ] }`, quote or space ends the value.
_PAIR_HEAD = re.compile(
    r"(?:(?<![\w.-])|(?<=%[0-9A-Fa-f]{2}))(?P<name>[A-Za-z_][\w.-]*)"
    r"(?P<kq>\\*[\"'])?[ \t]*(?P<sep>=>|:=|[:=]|%3[dD])(?P<ws>[ \t]*)"
)
_QUOTED_VALUE = re.compile(r"(?P<q>\\*[\"'])(?P<value>(?:(?!(?P=q)).)*)(?P=q)")
# Where a run of unquoted value characters ends does not depend on where in the run it starts.
_BARE_VALUE = re.compile(r"(?:[^\s\"',;&)}\]\\%]|\\(?![nrt\"'\\])|%(?!2[0267cC9]|3[bB]|5[dD]|7[dD]))+")
# A name ending like this holds a secret whatever the value looks like (compared without `_-.`).
_ALWAYS_SECRET = (
    "password", "passwd", "passphrase", "secret", "apikey", "accesskey", "privatekey", "accountkey",
    "sharedaccesskey", "signingkey", "encryptionkey", "masterkey", "authkey", "accesstoken",
    "refreshtoken", "authtoken", "idtoken", "sessiontoken", "bearertoken", "securitytoken",
    "apitoken", "bottoken", "oauthtoken", "tokensecret",
)  # fmt: skip
# A name ending like this holds a secret when the value looks generated (see looks_random).
_SECRET_ISH = ("key", "token", "auth", "sig", "signature", "salt", "cookie", "session", "sessionid",
               "credential", "credentials", "dsn")  # fmt: skip
# Shell-style names: DB_PASS, MYSQL_PWD, AZURE_DEVOPS_EXT_PAT, STREAM_KEY, ...
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*_(?:KEY|TOKEN|SECRET|PASSWORD|PASS|PWD|PAT|AUTH|CREDENTIALS?)")
_SHORT_NAME = re.compile(r"(?i).*[_.-](?:pass|pwd|pat)")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PATH = re.compile(r"[/~]|\.{1,2}/|[A-Za-z]:[\\/]")
_NESTED_PAIR = re.compile(r"^[A-Za-z_][\w.-]*=[^=]")
_PAIR_NEEDLES = ("pass", "pwd", "secret", "key", "token", "auth", "sig", "salt", "cookie", "session",
                 "cred", "dsn", "_pat")  # fmt: skip


def _name_strength(name: str) -> str:
    """ "always", "unless-path", "if-random" or "" for a key name."""
    flat = re.sub(r"[_.-]", "", name.lower())
    if flat.endswith(_ALWAYS_SECRET) or _ENV_NAME.fullmatch(name) or _SHORT_NAME.fullmatch(name):
        return "always"
    # An ODBC connection string's password (`UID=etl;PWD=...`), but also the shell's working
    # directory in an environment dump (`PWD=/home/prefect`).
    if flat == "pwd":
        return "unless-path"
    if flat.endswith(_SECRET_ISH):
        return "if-random"
    return ""


def _find_pairs(text: str) -> Iterator[Span]:
    """Linear in the text: a name that is not secret-ish costs no value scan, and the end of an
    unquoted run, once found, serves every pair that starts inside it (`key=key=key=...`)."""
    position = 0
    run: Span = (-1, -1)
    while head := _PAIR_HEAD.search(text, position):
        strength = _name_strength(head.group("name"))
        start = head.end()
        position = start
        if not strength:
            continue
        quoted = _QUOTED_VALUE.match(text, start)
        if quoted:
            span, bare = quoted.span("value"), False
        else:
            if not run[0] < start < run[1]:
                found = _BARE_VALUE.match(text, start)
                run = (start, found.end()) if found else (-1, -1)
            if run[0] > start or run[0] < 0:
                continue
            span, bare = (start, run[1]), True
        if _is_secret_pair(head, strength, text[span[0] : span[1]], bare):
            yield span
            position = span[1]
        elif strength == "always":  # a placeholder: skip it whole
            position = span[1]
        # else the value may itself start the next pair: `headers: csrftoken=...`


def _is_secret_pair(head: re.Match[str], strength: str, value: str, bare: bool) -> bool:
    # `secret:prod/db` in an ARN, `12:00`, `http://`: a bare name, a colon and no space is no pair.
    if head.group("sep") == ":" and not head.group("kq") and bare and not head.group("ws"):
        return False
    if is_placeholder(value) or value.startswith(("{", "[", "(")):
        return False
    if strength == "always":
        return True
    if strength == "unless-path":
        return _PATH.match(value) is None
    # `Cookie: sessionid=...`: the value is itself a pair, judged on its own name.
    if bare and _NESTED_PAIR.search(value):
        return False
    # Next to a merely secret-ish name, a path or a uuid is an identifier: Prefect's
    # "storage_key": "/srv/.../<hex>" and "dynamic_key": "<uuid>" are evidence, not credentials.
    if value.startswith(("/", "./", "~/")) or "://" in value or _UUID.fullmatch(value):
        return False
    return looks_random(value) or _weak_token(head.group("name"), value)


def _weak_token(name: str, value: str) -> bool:
    """token=, sig=, auth=: any 8+ character value with digits and letters is taken for one."""
    flat = name.lower()
    return (
        flat.endswith(("token", "sig", "signature", "auth"))
        and len(value) >= 8
        and _has_digit_and_letter(value)
    )


# --- AWS --------------------------------------------------------------------------------------

_AWS_KEY_ID_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA")
_AWS_KEY_ID = re.compile(rf"\b(?:{'|'.join(_AWS_KEY_ID_PREFIXES)})[A-Z0-9]{{16}}\b")
_AWS_SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def _find_bare_aws_secrets(text: str) -> Iterator[Span]:
    """A 40-character secret access key on the same line as an access key id, with no name."""
    seen: set[int] = set()
    for key_id in _AWS_KEY_ID.finditer(text):
        line_start = text.rfind("\n", 0, key_id.start()) + 1
        line_end = text.find("\n", key_id.end())
        line_end = len(text) if line_end < 0 else line_end
        if line_start in seen:
            continue
        seen.add(line_start)
        for candidate in _AWS_SECRET_SHAPE.finditer(text, line_start, line_end):
            upper, lower, _ = _classes(candidate.group())
            if upper and lower:
                yield candidate.span()


# --- token formats detect-secrets 1.5 does not know ---------------------------------------------

_TOKENS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("github fine-grained token", ("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{22,}"),
    ("google api key", ("aiza",), r"\bAIza[0-9A-Za-z_-]{35}"),
    ("google oauth access token", ("ya29.",), r"\bya29\.[0-9A-Za-z_-]{20,}"),
    ("google oauth client secret", ("gocspx-",), r"\bGOCSPX-[A-Za-z0-9_-]{20,}"),
    ("google oauth refresh token", ("1//0",), r"(?<![\w/])1//0[0-9A-Za-z_-]{30,}"),
    ("openai project key", ("sk-",), r"\bsk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}"),
    ("openai legacy key", ("sk-",), r"\bsk-[A-Za-z0-9]{32,}\b"),
    ("anthropic key", ("sk-ant-",), r"\bsk-ant-[a-z]+\d*-[A-Za-z0-9_-]{20,}"),
    ("stripe key", ("k_live_", "k_test_"), r"\b[rs]k_(?:live|test)_[0-9a-zA-Z]{16,}"),
    ("stripe webhook secret", ("whsec_",), r"\bwhsec_[A-Za-z0-9]{24,}"),
    ("shopify token", ("shp",), r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    ("npm token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("slack app token", ("xapp-",), r"\bxapp-\d-[A-Za-z0-9-]{20,}"),
    ("slack refresh token", ("xoxe",), r"\bxoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{20,}"),
    ("databricks token", ("dapi",), r"\bdapi[a-f0-9]{32}(?:-\d+)?\b"),
    ("hugging face token", ("hf_",), r"\bhf_[A-Za-z0-9]{30,}\b"),
    ("digitalocean token", ("_v1_",), r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
    ("heroku token", ("hrku-",), r"\bHRKU-[A-Za-z0-9_-]{20,}"),
    ("mailgun key", ("key-",), r"\bkey-[0-9a-f]{32}\b"),
    ("square access token", ("sq0atp-",), r"\bsq0atp-[0-9A-Za-z_-]{22,}"),
    ("square production token", ("eaaa",), r"\bEAAA[A-Za-z0-9_-]{60}\b"),
    ("vault token", ("hvs.", "hvb.", "hvr."), r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}"),
    ("atlassian token", ("atatt",), r"\bATATT3[A-Za-z0-9_=-]{100,}"),
    ("postman key", ("pmak-",), r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b"),
    ("notion token", ("ntn_", "secret_"), r"\b(?:ntn|secret)_[A-Za-z0-9]{43,46}\b"),
    ("airtable token", ("pat",), r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b"),
    ("grafana service account token", ("glsa_",), r"\bglsa_[A-Za-z0-9]{32}_[a-f0-9]{8}\b"),
    ("grafana cloud token", ("glc_",), r"\bglc_[A-Za-z0-9+/]{32,}={0,2}"),
    ("new relic key", ("nrak-",), r"\bNRAK-[A-Z0-9]{27}\b"),
    ("age secret key", ("age-secret-key-",), r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b"),
    ("terraform cloud token", (".atlasv1.",), r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,}"),
    ("supabase token", ("sbp_",), r"\bsbp_[a-f0-9]{40}\b"),
    ("linear key", ("lin_api_",), r"\blin_api_[A-Za-z0-9]{40}\b"),
    ("alibaba key id", ("ltai",), r"\bLTAI[A-Za-z0-9]{12,20}\b"),
    ("prefect key", ("pnu_",), r"\bpnu_[A-Za-z0-9]{36}\b"),
    ("dbt cloud token", ("dbtc_", "dbtu_"), r"\bdbt[cu]_[A-Za-z0-9_-]{20,}"),
    ("sentry token", ("sntry",), r"\bsntr[ysu]_[A-Za-z0-9+/=_-]{30,}"),
    ("pulumi token", ("pul-",), r"\bpul-[a-f0-9]{40}\b"),
    ("doppler token", ("dp.",), r"\bdp\.(?:st|ct|sa|scim|audit)\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9_-]{40,}"),
    ("planetscale token", ("pscale_",), r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,}"),
    ("azure ad client secret", ("q~",), r"(?<![\w~.-])[A-Za-z0-9_~.-]{3}\d[Qq]~[A-Za-z0-9_~.-]{31,34}"),
    ("jwt", ("eyj",), r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("aws key id", tuple(p.lower() for p in _AWS_KEY_ID_PREFIXES), _AWS_KEY_ID.pattern),
)  # fmt: skip


def _secret_group(
    name: str, needles: tuple[str, ...], pattern: re.Pattern[str], check: Callable[[str], bool] | None = None
) -> Rule:
    return regex_rule(name, needles, pattern, group="secret", check=check)


def _bearer_token(value: str) -> bool:
    """`Bearer authentication failed` names no token; a token is long or has digits."""
    return len(value) >= 20 or _has_digit_and_letter(value)


def own_rules_before() -> list[Rule]:
    """Rules that run before detect-secrets' plugins: they keep names, users and hosts, which a
    plugin's whole-match replacement would lose."""
    return [
        replace(regex_rule("private key block", ("private key",), _PRIVATE_KEY), multiline=True),
        regex_rule("private key body line", ("",), _KEY_BODY_LINE),
        _secret_group("webhook url", ("hooks.slack.com", "/webhooks/", "webhook.office.com"), _WEBHOOK),
        _secret_group("url password", ("://",), _URL_PASSWORD),
        _secret_group("url token user", ("://",), _URL_TOKEN_USER, check=looks_random),
        _secret_group("authorization header", ("authorization",), _AUTH_HEADER),
        _secret_group("bearer token", ("bearer",), _BEARER, check=_bearer_token),
        _secret_group("cli flag", ("-",), _CLI_FLAG),
        _secret_group("mysql -p", ("mysql", "mariadb"), _MYSQL_P),
        _secret_group("sshpass -p", ("sshpass",), _SSHPASS_P),
        _secret_group("redis-cli -a", ("redis-cli",), _REDIS_CLI_A),
        _secret_group("curl -u", ("-u", "--user"), _CURL_USER),
        _secret_group("auth tuple", ("auth",), _AUTH_TUPLE),
        Rule("key/value pair", _PAIR_NEEDLES, _find_pairs),
        Rule("aws secret beside key id", ("akia", "asia"), _find_bare_aws_secrets),
    ]  # fmt: skip


def own_token_rules() -> list[Rule]:
    """Token formats with a recognisable prefix, found anywhere."""
    return [regex_rule(name, needles, re.compile(pattern), grow=True) for name, needles, pattern in _TOKENS]
