from __future__ import annotations

import pytest
from onboarding.domain.csv_format import HEADER, BadCsv, BadHeader, parse_csv
from onboarding.domain.model import Code, Partner, Rejection

HEAD = ",".join(HEADER)


def test_header_is_the_one_the_issue_names():
    assert HEAD == (
        "partner_id,legal_name,partner_type,tier,parent_distributor_id,territories,"
        "exclusive_territories,enrolled_on,contact_email"
    )


def test_rows_are_numbered_from_2_and_lists_split_on_semicolons():
    text = (
        "\ufeff" + HEAD + "\r\n"
        "D-100,Alpha Distribution,DISTRIBUTOR,GOLD,,DE; AT;CH,AT;CH,2026-01-05,a@alpha.example\r\n"
        "\r\n"
        'R-100,"Beta, Inc.",RESELLER,SILVER,D-100,DE,,2026-01-06,b@beta.example\r\n'
    )
    rows = parse_csv(text)
    assert [r.number for r in rows] == [2, 4]
    first, second = (r.request for r in rows)
    assert isinstance(first, Partner) and isinstance(second, Partner)
    assert first.territories == ("AT", "CH", "DE")
    assert first.exclusive_territories == ("AT", "CH")
    assert first.parent_distributor_id is None
    assert second.legal_name == "Beta, Inc."
    assert second.parent_distributor_id == "D-100"


def test_bad_rows_carry_their_reason_and_partner_id():
    text = (
        HEAD + "\n"
        "R-1,Short row,RESELLER\n"
        "R-2,Bad country,RESELLER,SILVER,,XX,,2026-01-06,c@c.example\n"
    )
    short, bad = (r.request for r in parse_csv(text))
    assert short == Rejection(Code.INVALID_ROW, "expected 9 columns, got 3", "R-1")
    assert isinstance(bad, Rejection)
    assert (bad.code, bad.partner_id) == (Code.INVALID_FIELD, "R-2")
    assert bad.detail.startswith("territories: 'XX'")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "partner_id,legal_name\nR-1,x\n",
        HEAD.replace("tier", "level") + "\n",
        HEAD + ",extra\n",
    ],
)
def test_a_file_without_the_exact_header_is_refused(text):
    with pytest.raises(BadHeader, match="expected header: partner_id,legal_name"):
        parse_csv(text)


def test_unreadable_csv_is_refused():
    with pytest.raises(BadCsv):
        parse_csv(HEAD + '\nR-1,"unterminated,RESELLER\n')


def test_control_characters_in_a_name_are_refused():
    text = HEAD + "\nR-1,a\x00b,RESELLER,SILVER,,DE,,2026-01-06,c@c.example\n"
    [row] = parse_csv(text)
    assert isinstance(row.request, Rejection)
    assert row.request.detail == "legal_name: contains control characters"
