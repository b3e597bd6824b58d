from alembic import context
from channelstream_common.migrations import run_env
from channelstream_common.settings import Settings

if not context.config.get_main_option("sqlalchemy.url"):
    url = Settings.from_env("sellthrough").database_url
    context.config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))

run_env()
