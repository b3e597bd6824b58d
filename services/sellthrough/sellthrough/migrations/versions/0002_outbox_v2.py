"""Outbox v2 (channelstream_common.outbox.OUTBOX_TO_V2): packed text headers, published rows
deleted instead of marked; rows already published are dropped, pending ones kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from channelstream_common.outbox import downgrade_from_v2 as downgrade
from channelstream_common.outbox import upgrade_to_v2 as upgrade

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
__all__ = ["downgrade", "upgrade"]
