# The two commands the README promises, and their parts.
.PHONY: demo test bootstrap stack lint check unit integration down

UV := uv run --frozen

demo: bootstrap  ## run the whole system end to end on sample data
	$(UV) channelstream demo

test: bootstrap lint check stack  ## run every check and test (provisions what it needs)
	$(UV) pytest -q -p no:randomly

bootstrap:
	@deploy/local/bootstrap.sh

stack:
	$(UV) channelstream stack up

lint:
	$(UV) ruff check .
	$(UV) ruff format --check .
	$(UV) mypy

check:  ## contracts: schema compatibility and the AsyncAPI document match the topic registry
	$(UV) python -m channelstream_common.schemas
	$(UV) python -m channelstream_common.asyncapi --check
	$(UV) python -m channelstream_common.k8s_manifests --check

unit:
	$(UV) pytest -q -m "not integration"

integration: stack
	$(UV) pytest -q -m integration

down:
	$(UV) channelstream services down || true
	$(UV) channelstream stack down
