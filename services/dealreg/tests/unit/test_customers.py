"""Customer identity: name, domain and key normalization."""

from __future__ import annotations

import pytest
from dealreg.domain.customers import customer_key, normalize_domain, normalize_name, same_customer
from hypothesis import given
from hypothesis import strategies as st

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
NAMES = st.lists(WORD, min_size=1, max_size=4)
SUFFIXES = st.sampled_from(
    [
        " Inc",
        " Inc.",
        ", Inc.",
        " LLC",
        " Ltd",
        " Limited",
        " GmbH",
        " SA",
        " S.A.",
        " Corp.",
        " GmbH & Co. KG",
        " Pty Ltd",
        " Co., Ltd.",
        " S.A. de C.V.",
        " AG",
        " B.V.",
        " plc",
    ]
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ACME, Inc.", "acme"),
        ("Acme Inc", "acme"),
        ("  acme  ", "acme"),
        ("The Acme Company", "acme"),
        ("A.C.M.E. GmbH & Co. KG", "acme"),
        ("Acme S.A. de C.V.", "acme"),
        ("Société Générale SA", "societegenerale"),
        ("Smith & Sons Ltd", "smithandsons"),
        ("Smith and Sons Limited", "smithandsons"),
        ("O\u2019Neil Ltd", "oneil"),
        ("Ac  me   LLC", "acme"),
        ("Inc", "inc"),
        ("Acme Holdings", "acmeholdings"),
    ],
)
def test_names_lose_case_spacing_punctuation_accents_and_legal_suffixes(raw, expected):
    assert normalize_name(raw) == expected


@given(NAMES, SUFFIXES, st.sampled_from([" ", "  ", "\t"]))
def test_spelling_variants_of_one_name_give_the_same_key(words, suffix, gap):
    plain = " ".join(words)
    variant = gap.join(w.upper() for w in words) + suffix
    punctuated = ", ".join(w.capitalize() for w in words) + "."
    assert normalize_name(variant) == normalize_name(plain)
    assert normalize_name(punctuated) == normalize_name(plain)
    assert customer_key(variant, "de") == customer_key(plain, "DE")


@given(NAMES)
def test_normalizing_is_idempotent(words):
    once = normalize_name(" ".join(words))
    assert normalize_name(once) == once


def test_key_carries_the_country():
    assert customer_key("Acme Inc", "us") == "acme|US"
    assert customer_key("Acme Inc", "US") != customer_key("Acme Inc", "CA")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("ACME.COM.", "acme.com"),
        ("acme.com:8443", "acme.com"),
        ("sales.acme.co.uk", "sales.acme.co.uk"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("acme", None),
        ("jane@acme.com", None),
        ("-acme.com", None),
        ("acme_corp.com", None),
        ("acme.123", None),
        ("", None),
    ],
)
def test_domains_are_host_names_without_scheme_www_port_or_path(raw, expected):
    assert normalize_domain(raw) == expected


def test_domains_decide_when_both_have_one_else_name_and_country():
    assert same_customer("acme|US", "acme.com", "acmewidgets|DE", "acme.com")
    assert not same_customer("acme|US", "acme.com", "acme|US", "acme.io")
    assert same_customer("acme|US", "acme.com", "acme|US", None)
    assert not same_customer("acme|US", None, "acme|DE", None)
