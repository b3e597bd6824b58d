"""Customer identity: two requests name the same customer when their normalized domains are equal
(both have one), otherwise when their normalized names and countries are equal."""

from __future__ import annotations

import re
import unicodedata

_LEGAL_WORDS = """
    inc incorporated llc llp lp ltd limited corp corporation co company plc gmbh mbh ag kg kgaa
    ohg ug ev sa sas sasu sarl sca se srl spa sl slu bv nv vof ab as asa aps oy oyj kk pty pte
    pvt bhd sdn tbk sro zrt kft nyrt doo dd ad ood eood ltda cv and
"""
# Trailing legal forms (words, and phrases as token tuples) that do not identify a company;
# longest first so 'sa de cv' goes before 'cv'.
_LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {(word,) for word in _LEGAL_WORDS.split()}
        | {("sa", "de", "cv"), ("s", "de", "rl"), ("sp", "z", "oo"), ("de", "cv")},
        key=lambda form: (-len(form), form),
    )
)
_JOINED = re.compile("['`.\u2019]")  # A.B.C. -> abc, O'Neil -> oneil
_WORD = re.compile(r"[^\W_]+")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def name_tokens(name: str) -> list[str]:
    """Words of a company name: accents, case, punctuation and trailing legal forms removed."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _JOINED.sub("", text.replace("&", " and "))
    tokens = _WORD.findall(text)
    stripped = True
    while stripped:
        stripped = False
        for form in _LEGAL_FORMS:
            if len(tokens) > len(form) and tuple(tokens[-len(form) :]) == form:
                del tokens[-len(form) :]
                stripped = True
                break
    if len(tokens) > 1 and tokens[0] == "the":
        tokens.pop(0)
    return tokens


def normalize_name(name: str) -> str:
    """'ACME, Inc.', 'Acme Inc' and 'acme' all give 'acme'; spacing is removed too."""
    return "".join(name_tokens(name))


def customer_key(name: str, country: str) -> str:
    """The name-and-country identity carried on DealRegistered as `customer_key`."""
    return f"{normalize_name(name)}|{country.strip().upper()}"


def normalize_domain(raw: str) -> str | None:
    """'https://www.Acme.com/about' gives 'acme.com'; None when it is not a host name."""
    host = _SCHEME.sub("", raw.strip().casefold())
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    if "@" in host:
        return None
    host = host.split(":", 1)[0].rstrip(".")
    host = host.removeprefix("www.")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not _TLD.fullmatch(labels[-1]):
        return None
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return host


def same_customer(key_a: str, domain_a: str | None, key_b: str, domain_b: str | None) -> bool:
    """Domains decide when both requests have one; otherwise the name-and-country keys do."""
    if domain_a and domain_b:
        return domain_a == domain_b
    return key_a == key_b
