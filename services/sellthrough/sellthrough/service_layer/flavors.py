"""What differs between report lines (sales) and shipments; the pipeline is otherwise one."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeAlias

from channelstream_common.topics import SELL_IN_RECORDED, SELL_THROUGH_REJECTED, Topic
from channelstream_common.topics import SELL_THROUGH_REPORTED as REPORTED

from sellthrough.domain import parsing, validation
from sellthrough.domain.decisions import Decision
from sellthrough.domain.model import (
    Kind,
    Partner,
    Reason,
    Rejection,
    Rules,
    SaleLine,
    ShipmentLine,
    Status,
)
from sellthrough.domain.validation import Verdict
from sellthrough.service_layer import messages
from sellthrough.service_layer.messages import Stamp
from sellthrough.service_layer.submissions import Submitted

Line: TypeAlias = SaleLine | ShipmentLine
Staged: TypeAlias = tuple[list[tuple[Topic, dict[str, Any]]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Flavor:
    kind: Kind
    header: tuple[str, ...]

    def parse(self, fields: parsing.RawFields) -> Line | Rejection:
        if self.kind is Kind.SALE:
            return parsing.parse_sale(fields)
        return parsing.parse_shipment(fields)

    def check(
        self, line: Line, rules: Rules, partners: Mapping[str, Partner], today: date
    ) -> Verdict:
        if isinstance(line, SaleLine):
            return validation.check_sale(line, rules, partners, today)
        return validation.check_shipment(line, rules, partners, today)

    def checker(
        self, rules: Rules, partners: Mapping[str, Partner]
    ) -> Callable[[Any, date], Verdict]:
        """check() with these rules and partners, dispatched once rather than per line."""
        check = validation.check_sale if self.kind is Kind.SALE else validation.check_shipment
        return lambda line, today: check(line, rules, partners, today)

    @property
    def hasher(self) -> Callable[[Any], str]:
        """hash_of(), dispatched once rather than per line."""
        return validation.sale_hash if self.kind is Kind.SALE else validation.shipment_hash

    @staticmethod
    def hash_of(line: Line) -> str:
        if isinstance(line, SaleLine):
            return validation.sale_hash(line)
        return validation.shipment_hash(line)

    def status_key(self, item: Submitted, decision: Decision[Any]) -> Hashable | None:
        """(report_id, line_no) or shipment_id of the line, if it can be read at all."""
        line = decision.line
        if line is not None:
            return line.key
        if item.fields is None:
            return None
        if self.kind is Kind.SALE:
            report_id, line_no, _ = parsing.readable_sale_ref(item.fields)
            return (report_id, line_no) if report_id and line_no else None
        return parsing.readable_shipment_ref(item.fields)[0]

    @staticmethod
    def partners_of(line: Line) -> tuple[str, str | None]:
        reseller = line.reseller_id if isinstance(line, SaleLine) else None
        return line.distributor_id, reseller

    def stage(self, item: Submitted, decision: Decision[Any], rules: Rules, stamp: Stamp) -> Staged:
        """The events (and dead-letter rows) announcing an accepted or refused line."""
        line = decision.line
        if decision.status is Status.ACCEPTED:
            if isinstance(line, SaleLine):
                product = rules.catalog.get(line.sku)
                assert decision.line_hash is not None
                value = messages.sale_reported(
                    item, line, decision.line_hash, product.product_line if product else None, stamp
                )
                return [(REPORTED, value)], []
            assert isinstance(line, ShipmentLine)
            return [(SELL_IN_RECORDED, messages.shipment_recorded(item, line, stamp))], []
        if decision.status is not Status.REJECTED:
            return [], []
        reason = decision.reason or Reason.MALFORMED_ROW
        if self.kind is Kind.SALE:
            ref: tuple[str | None, int | None, str | None]
            if isinstance(line, SaleLine):
                ref = (line.report_id, line.line_no, line.distributor_id)
            elif item.fields is not None:
                ref = parsing.readable_sale_ref(item.fields)
            else:
                ref = (None, None, None)
            value = messages.sale_rejected(item, ref, reason, decision.detail, stamp)
            return [(SELL_THROUGH_REJECTED, value)], []
        shipment_id = self.status_key(item, decision)
        assert shipment_id is None or isinstance(shipment_id, str)
        row = messages.shipment_dead_letter(item, shipment_id, reason, decision.detail, stamp)
        return [], [row]


SALES = Flavor(Kind.SALE, parsing.SALE_HEADER)
SHIPMENTS = Flavor(Kind.SHIPMENT, parsing.SHIPMENT_HEADER)
FLAVORS = {f.kind: f for f in (SALES, SHIPMENTS)}
