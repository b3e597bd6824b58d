"""Alembic environment: the shared run_env(); by hand, the URL comes from the environment."""

from alembic import context
from channelstream_common.migrations import run_env
from channelstream_common.settings import Settings

if not context.config.get_main_option("sqlalchemy.url"):
    url = Settings.from_env("dealreg").database_url
    context.config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))

run_env()
