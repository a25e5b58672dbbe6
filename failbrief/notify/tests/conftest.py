import pytest


@pytest.fixture(autouse=True)
def _receivers_on_loopback(settings):
    """The loopback receivers these tests send to are on 127.0.0.1, a private address that
    production refuses (test_destinations.py tests that refusal)."""
    settings.NOTIFY_ALLOW_PRIVATE = True
