"""Reading decisions back: one deal, or deals by partner and/or customer."""

from __future__ import annotations

from dealreg.adapters.repository import DealRepository
from dealreg.domain.customers import normalize_domain, normalize_name
from dealreg.domain.model import DealRecord, Partner, Status


async def get_deal(repo: DealRepository, deal_id: str) -> DealRecord | None:
    return await repo.get(deal_id)


async def get_partner(repo: DealRepository, partner_id: str) -> Partner | None:
    """The partner as dealreg knows it from PartnerEnrolled: until then its deals are refused."""
    return await repo.partner(partner_id)


async def list_deals(
    repo: DealRepository,
    *,
    partner_id: str | None = None,
    customer: str | None = None,
    country: str | None = None,
    status: Status | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DealRecord]:
    """`customer` matches normalized names containing its normalized form ('ACME, Inc.' and
    'acme' find 'Acme Inc' and 'Acme Widgets LLC') or, when it looks like one, the domain."""
    name_key = normalize_name(customer) if customer else None
    domain_key = normalize_domain(customer) if customer else None
    return await repo.search(
        partner_id=partner_id,
        name_key=name_key or None,
        domain_key=domain_key,
        country=country.upper() if country else None,
        status=status,
        limit=limit,
        offset=offset,
    )
