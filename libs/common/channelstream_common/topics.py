"""Every topic declared once: name, key, schema, partitions, retention and its single writer."""

from __future__ import annotations

from dataclasses import dataclass

EXTERNAL = "distributor-integrations"


@dataclass(frozen=True)
class Topic:
    name: str
    value_schema: str | None  # event type in schemas/avro; None = raw bytes (dead letters)
    key: str  # the value field (dotted path) that is the record key
    owner: str  # the only service allowed to write it
    partitions: int = 3
    description: str = ""
    retention_ms: int = -1
    cleanup_policy: str = "delete"

    def full_name(self, prefix: str = "") -> str:
        return f"{prefix}{self.name}"

    @property
    def subject(self) -> str:
        return f"{self.name}-value"

    @property
    def config(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy}


PARTNER_ENROLLED = Topic(
    "onboarding.partner-enrolled",
    "PartnerEnrolled",
    "partner_id",
    "onboarding",
    description="A partner (distributor or reseller) was enrolled.",
)
DEAL_REGISTERED = Topic(
    "dealreg.deal-registered",
    "DealRegistered",
    "customer_key",
    "dealreg",
    description="A deal registration was approved; keyed by customer so one partition decides it.",
)
DEAL_REJECTED = Topic(
    "dealreg.deal-registration-rejected",
    "DealRegistrationRejected",
    "deal_id",
    "dealreg",
    description="A deal registration was refused, with its coded reason.",
)
SELL_THROUGH_SUBMITTED = Topic(
    "sellthrough.intake.report-lines",
    "SellThroughLineSubmitted",
    "report_id",
    EXTERNAL,
    description="Raw sell-through report lines as distributors submit them (public intake).",
)
SELL_IN_SUBMITTED = Topic(
    "sellthrough.intake.shipments",
    "SellInShipmentSubmitted",
    "distributor_id",
    EXTERNAL,
    description="Raw sell-in shipments as submitted (public intake).",
)
SELL_THROUGH_REPORTED = Topic(
    "sellthrough.sell-through-reported",
    "SellThroughReported",
    "distributor_id",
    "sellthrough",
    description="An accepted sell-through line; keyed by distributor so its lines stay in order.",
)
SELL_THROUGH_REJECTED = Topic(
    "sellthrough.sell-through-rejected",
    "SellThroughRejected",
    "report_id",
    "sellthrough",
    description="A refused report line with its coded reason and the raw line.",
)
SELL_IN_RECORDED = Topic(
    "sellthrough.sell-in-recorded",
    "SellInRecorded",
    "distributor_id",
    "sellthrough",
    description="A vendor shipment to a distributor.",
)
REBATE_ACCRUED = Topic(
    "incentives.rebate-accrued",
    "RebateAccrued",
    "partner_id",
    "incentives",
    description="One accrual line of the rebate ledger.",
)

DEAD_LETTERS = {
    svc: Topic(
        f"{svc}.dead-letter",
        None,
        "",
        svc,
        description=f"Records {svc} could not decode or apply, with the reason in headers.",
    )
    for svc in ("onboarding", "dealreg", "sellthrough", "incentives", "analytics")
}

EVENT_TOPICS: tuple[Topic, ...] = (
    PARTNER_ENROLLED,
    DEAL_REGISTERED,
    DEAL_REJECTED,
    SELL_THROUGH_SUBMITTED,
    SELL_IN_SUBMITTED,
    SELL_THROUGH_REPORTED,
    SELL_THROUGH_REJECTED,
    SELL_IN_RECORDED,
    REBATE_ACCRUED,
)
ALL_TOPICS: tuple[Topic, ...] = EVENT_TOPICS + tuple(DEAD_LETTERS.values())


def by_name(name: str) -> Topic:
    for topic in ALL_TOPICS:
        if topic.name == name:
            return topic
    raise KeyError(name)


def owned_by(service: str) -> list[Topic]:
    return [t for t in ALL_TOPICS if t.owner == service]
