"""Facts from every event topic, inventory positions, and the documented `bi` views.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op
from channelstream_common.projection import POSITIONS_DDL

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = [
    """create table partners (
        partner_id text primary key,
        legal_name text not null,
        partner_type text not null,
        tier text not null,
        parent_distributor_id text,
        territories text[] not null,
        enrolled_on date not null,
        event_id text not null unique
    )""",
    "create index partners_parent on partners (parent_distributor_id, enrolled_on)",
    """create table sell_through_lines (
        distributor_id text not null,
        report_id text not null,
        line_no bigint not null,
        reseller_id text not null,
        sku text not null,
        product_line text,
        quantity integer not null,
        unit_price numeric(18, 4) not null,
        currency text not null,
        sold_on date not null,
        end_customer_name text,
        end_customer_country text,
        deal_id text,
        upload_id text,
        ingestion_path text not null,
        event_id text not null unique,
        primary key (report_id, line_no)
    )""",
    # covers the inventory window (units per SKU over 91 days): an index-only range scan
    "create index lines_distributor on sell_through_lines (distributor_id, sold_on)"
    " include (sku, quantity)",
    "create index lines_reseller on sell_through_lines (reseller_id, sold_on)",
    "create index lines_deal on sell_through_lines (deal_id) where deal_id is not null",
    """create table sell_in_shipments (
        shipment_id text primary key,
        distributor_id text not null,
        sku text not null,
        quantity integer not null,
        unit_cost numeric(18, 4) not null,
        currency text not null,
        shipped_on date not null,
        upload_id text,
        ingestion_path text not null,
        event_id text not null unique
    )""",
    "create index shipments_distributor on sell_in_shipments (distributor_id, shipped_on)",
    """create table deals (
        deal_id text primary key,
        partner_id text not null,
        customer_key text not null,
        customer_name text not null,
        customer_country text not null,
        estimated_value numeric(18, 2) not null,
        currency text not null,
        expected_close_on date not null,
        registered_on date not null,
        protection_expires_on date not null,
        event_id text not null unique
    )""",
    "create index deals_partner on deals (partner_id, registered_on)",
    """create table deal_rejections (
        event_id text primary key,
        deal_id text not null,
        partner_id text not null,
        reason text not null,
        detail text not null,
        conflicting_deal_id text,
        registered_on date,
        occurred_on date not null
    )""",
    "create index deal_rejections_partner on deal_rejections (partner_id)",
    """create table sell_through_rejections (
        event_id text primary key,
        report_id text,
        line_no bigint,
        distributor_id text,
        reason text not null,
        detail text not null,
        raw_line text not null,
        upload_id text,
        ingestion_path text not null,
        occurred_on date not null
    )""",
    """create table rebate_accruals (
        accrual_id text primary key,
        partner_id text not null,
        program_id text not null,
        program_version integer not null,
        period text not null check (period ~ '^[0-9]{4}-Q[1-4]$'),
        reason text not null,
        basis_amount numeric(18, 4) not null,
        rate numeric(18, 6) not null,
        amount numeric(18, 2) not null,
        source_event_id text not null,
        source_topic text not null,
        deal_id text,
        sold_on date,
        line_event_id text,
        currency text,
        event_id text not null unique
    )""",
    "create index accruals_partner on rebate_accruals (partner_id, period)",
    """create table inventory_positions (
        distributor_id text not null,
        sku text not null,
        sell_in_units bigint not null,
        sell_through_units bigint not null,
        on_hand bigint not null,
        units_in_window bigint not null,
        as_of date,
        avg_weekly_units numeric(18, 2) not null,
        weeks_of_supply numeric(18, 2),
        loading_flag boolean not null,
        primary key (distributor_id, sku)
    )""",
]

# The views' plans look expensive before pushdown shrinks them (tens of ms to run), and JIT
# compiling them took seconds: off for every session on this database, BI tools included.
SESSION = [
    "do $$ begin execute format('alter database %I set jit = off', current_database()); end $$",
]

FUNCTIONS = [
    "create schema bi",
    """create function bi.quarter_of(day date) returns text
        language sql immutable strict parallel safe
        return lpad(extract(year from day)::int::text, 4, '0')
            || '-Q' || extract(quarter from day)::int::text""",
    """create function bi.quarter_start(quarter text) returns date
        language sql immutable strict parallel safe
        return make_date(substr(quarter, 1, 4)::int, substr(quarter, 7, 1)::int * 3 - 2, 1)""",
    """create function bi.round_half_even(value numeric, places integer) returns numeric
        language sql immutable strict parallel safe
        return round(case
            when abs(value * 10::numeric ^ places - trunc(value * 10::numeric ^ places)) = 0.5
                 and mod(trunc(value * 10::numeric ^ places), 2) = 0
            then trunc(value * 10::numeric ^ places) / 10::numeric ^ places
            else value
        end, places)""",
]

VIEWS = [
    """create view bi.partners as
    select partner_id, legal_name, partner_type,
           case when partner_type = 'DISTRIBUTOR' then 'distributor' else 'reseller' end
               as scorecard_type,
           tier, parent_distributor_id, territories, enrolled_on,
           bi.quarter_of(enrolled_on) as enrolled_quarter
    from partners""",
    """create view bi.sell_through_lines as
    select distributor_id, reseller_id, report_id, line_no, sku, product_line, quantity,
           unit_price, quantity * unit_price as amount, currency, sold_on,
           bi.quarter_of(sold_on) as quarter, deal_id, end_customer_name, end_customer_country,
           upload_id, ingestion_path, event_id
    from sell_through_lines""",
    """create view bi.sell_in_shipments as
    select distributor_id, shipment_id, sku, quantity, unit_cost, quantity * unit_cost as amount,
           currency, shipped_on, bi.quarter_of(shipped_on) as quarter, upload_id, ingestion_path,
           event_id
    from sell_in_shipments""",
    """create view bi.rebate_ledger as
    select accrual_id, partner_id, period as quarter, reason, amount, currency, basis_amount,
           rate, program_id, program_version, source_event_id, source_topic, line_event_id,
           deal_id, sold_on, event_id
    from rebate_accruals""",
    """create view bi.inventory_position as
    select distributor_id, sku, sell_in_units, sell_through_units, on_hand, units_in_window,
           as_of, avg_weekly_units, weeks_of_supply, loading_flag
    from inventory_positions""",
    """create view bi.deal_registrations as
    select deal_id, partner_id, 'APPROVED' as status, null::text as reason, registered_on,
           registered_on as counted_on, bi.quarter_of(registered_on) as quarter,
           protection_expires_on, null::text as conflicting_deal_id, event_id
    from deals
    union all
    select deal_id, partner_id, 'REJECTED', reason, registered_on,
           coalesce(registered_on, occurred_on), bi.quarter_of(coalesce(registered_on, occurred_on)),
           null, conflicting_deal_id, event_id
    from deal_rejections""",
    """create view bi.scorecard_quarterly as
    with first_day as (
        select partner_id, min(day) as day from (
            select partner_id, enrolled_on as day from partners
            union all select distributor_id, min(sold_on) from sell_through_lines group by 1
            union all select reseller_id, min(sold_on) from sell_through_lines group by 1
            union all select distributor_id, min(shipped_on) from sell_in_shipments group by 1
            union all select partner_id, min(registered_on) from deals group by 1
            union all select partner_id, min(coalesce(registered_on, occurred_on))
                from deal_rejections group by 1
            union all select partner_id, min(bi.quarter_start(period))
                from rebate_accruals group by 1
        ) days
        group by partner_id
    ),
    last_day as (
        select greatest(
            (select max(enrolled_on) from partners),
            (select max(sold_on) from sell_through_lines),
            (select max(shipped_on) from sell_in_shipments),
            (select max(registered_on) from deals),
            (select max(coalesce(registered_on, occurred_on)) from deal_rejections),
            (select max(bi.quarter_start(period)) from rebate_accruals)
        ) as day
    ),
    grid as (
        select p.partner_id, p.legal_name, p.partner_type,
               case when p.partner_type = 'DISTRIBUTOR' then 'distributor' else 'reseller' end
                   as scorecard_type,
               p.tier, p.parent_distributor_id, p.enrolled_on,
               bi.quarter_of(q.start::date) as quarter, q.start::date as quarter_start,
               (q.start + interval '3 months' - interval '1 day')::date as quarter_end
        from partners p
        join first_day f using (partner_id)
        cross join last_day l
        cross join lateral generate_series(
            date_trunc('quarter', f.day::timestamp), date_trunc('quarter', l.day::timestamp),
            interval '3 months') as q(start)
    ),
    through_d as (
        select distributor_id as partner_id, bi.quarter_of(sold_on) as quarter,
               sum(quantity * unit_price) as revenue, sum(quantity) as units
        from sell_through_lines group by 1, 2
    ),
    through_r as (
        select reseller_id as partner_id, bi.quarter_of(sold_on) as quarter,
               sum(quantity * unit_price) as revenue, sum(quantity) as units, count(*) as lines
        from sell_through_lines group by 1, 2
    ),
    sell_in as (
        select distributor_id as partner_id, bi.quarter_of(shipped_on) as quarter,
               sum(quantity * unit_cost) as revenue
        from sell_in_shipments group by 1, 2
    ),
    active as (
        select partner_id, quarter, count(*) as resellers from (
            select distributor_id as partner_id, bi.quarter_of(sold_on) as quarter
            from sell_through_lines
            group by distributor_id, reseller_id, bi.quarter_of(sold_on)
            having sum(quantity) > 0
        ) a group by 1, 2
    ),
    recruited as (
        select parent_distributor_id as partner_id, bi.quarter_of(enrolled_on) as quarter,
               count(*) as resellers
        from partners where parent_distributor_id is not null group by 1, 2
    ),
    rebates as (
        select partner_id, period as quarter, sum(amount) as amount
        from rebate_accruals group by 1, 2
    ),
    loading as (
        select distributor_id as partner_id, count(*) filter (where loading_flag) as skus
        from inventory_positions group by 1
    ),
    registered as (
        select partner_id, bi.quarter_of(registered_on) as quarter, count(*) as deals,
               count(*) filter (where exists (
                   select 1 from sell_through_lines l
                   where l.deal_id = d.deal_id and l.reseller_id = d.partner_id)) as converted
        from deals d group by 1, 2
    ),
    rejected as (
        select partner_id, bi.quarter_of(coalesce(registered_on, occurred_on)) as quarter,
               count(*) as deals
        from deal_rejections group by 1, 2
    )
    select g.partner_id, g.legal_name, g.partner_type, g.scorecard_type, g.tier,
           g.parent_distributor_id, g.enrolled_on, g.quarter, g.quarter_start, g.quarter_end,
           case when g.scorecard_type = 'distributor'
                then bi.round_half_even(coalesce(si.revenue, 0), 2) end as sell_in_revenue,
           bi.round_half_even(coalesce(case when g.scorecard_type = 'distributor'
                then td.revenue else tr.revenue end, 0), 2) as sell_through_revenue,
           coalesce(case when g.scorecard_type = 'distributor'
                then td.units else tr.units end, 0)::bigint as sell_through_units,
           case when g.scorecard_type = 'distributor' and coalesce(si.revenue, 0) <> 0
                then bi.round_half_even(coalesce(td.revenue, 0) / si.revenue, 4)
           end as sell_through_to_sell_in,
           case when g.scorecard_type = 'distributor'
                then coalesce(a.resellers, 0)::integer end as active_resellers,
           case when g.scorecard_type = 'distributor'
                then coalesce(rc.resellers, 0)::integer end as new_resellers,
           coalesce(rb.amount, 0)::numeric(18, 2) as rebate_accrued,
           case when g.scorecard_type = 'distributor'
                then coalesce(ld.skus, 0)::integer end as loading_skus,
           case when g.scorecard_type = 'reseller'
                then coalesce(rg.deals, 0)::integer end as deals_registered,
           case when g.scorecard_type = 'reseller'
                then coalesce(rj.deals, 0)::integer end as deals_rejected,
           case when g.scorecard_type = 'reseller'
                then coalesce(rg.converted, 0)::integer end as deals_converted,
           case when g.scorecard_type = 'reseller'
                then g.enrolled_on < g.quarter_start
                     and coalesce(tr.lines, 0) = 0 and coalesce(rg.deals, 0) = 0
           end as dark
    from grid g
    left join through_d td on td.partner_id = g.partner_id and td.quarter = g.quarter
    left join through_r tr on tr.partner_id = g.partner_id and tr.quarter = g.quarter
    left join sell_in si on si.partner_id = g.partner_id and si.quarter = g.quarter
    left join active a on a.partner_id = g.partner_id and a.quarter = g.quarter
    left join recruited rc on rc.partner_id = g.partner_id and rc.quarter = g.quarter
    left join rebates rb on rb.partner_id = g.partner_id and rb.quarter = g.quarter
    left join loading ld on ld.partner_id = g.partner_id
    left join registered rg on rg.partner_id = g.partner_id and rg.quarter = g.quarter
    left join rejected rj on rj.partner_id = g.partner_id and rj.quarter = g.quarter""",
]

COMMENTS = [
    "comment on schema bi is 'Stable read-only views for BI tools; documented in"
    " services/analytics/BI.md. Columns are only ever added, never renamed or removed.'",
    "comment on view bi.scorecard_quarterly is 'One row per enrolled partner and calendar"
    " quarter, from the partner''s first quarter to the last quarter with data.'",
    "comment on view bi.inventory_position is 'Channel inventory per distributor and SKU as of"
    " the end of data (same definition as the sellthrough inventory view).'",
    "comment on view bi.rebate_ledger is 'Every RebateAccrued event (the incentives ledger).'",
    "comment on view bi.sell_through_lines is 'Every accepted sell-through line; amount ="
    " quantity x unit_price, negative for returns.'",
]


def upgrade() -> None:
    op.execute(POSITIONS_DDL)
    for statement in SESSION + TABLES + FUNCTIONS + VIEWS + COMMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("do $$ begin execute format('alter database %I reset jit', current_database()); end $$")
    op.execute("drop schema bi cascade")
    for table in (
        "inventory_positions",
        "rebate_accruals",
        "sell_through_rejections",
        "deal_rejections",
        "deals",
        "sell_in_shipments",
        "sell_through_lines",
        "partners",
        "projection_positions",
    ):
        op.execute(f"drop table {table}")
