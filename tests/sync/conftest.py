import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from tenacity import wait_none

from sync.ghl import GHLClient
from tests.sync.fake_ghl import BASE_URL, LOCATION_ID, FakeGHL


@pytest.fixture
def ghl_settings(settings):
    settings.GHL_API_BASE_URL = BASE_URL
    settings.GHL_API_TOKEN = "pit-test-token"
    settings.GHL_LOCATION_ID = LOCATION_ID
    settings.GHL_PIPELINE_ID = "VDm7RPYC2GLUvdpKmBfC"
    settings.GHL_PIPELINE_STAGE_ID = "7915dedc-8f18-44d5-8bc3-77c04e994a10"
    settings.GHL_WORKFLOW_ID = "wf000000000000000001"
    settings.GHL_BUYER_TAG = "cash-buyer"
    settings.GHL_CONFLICT_STRATEGY = "newest_wins"
    settings.GHL_READBACK_SAMPLE = 0  # the read-back tests (test_reconcile.py) read every contact back
    return settings


@pytest.fixture
def fake_ghl(ghl_settings):
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGHL(router)
        yield fake
    assert fake.violations == []


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def ghl(fake_ghl, sleeps):
    """A client that never really sleeps (retries and throttling are recorded in `sleeps`)."""
    return GHLClient(BASE_URL, "pit-test-token", LOCATION_ID, timeout=5, retry_wait=wait_none(), sleep=sleeps.append)


# --- webhook signing keys (test key pairs) ---------------------------------------------------------


@pytest.fixture(scope="module")
def ed_key():
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def webhook_keys(settings, ed_key, rsa_key):
    settings.GHL_WEBHOOK_PUBLIC_KEY = _pem(ed_key)
    settings.GHL_WEBHOOK_RSA_PUBLIC_KEY = _pem(rsa_key)
    settings.GHL_CONFLICT_STRATEGY = "newest_wins"
    settings.GHL_BUYER_TAG = "cash-buyer"
    settings.GHL_LOCATION_ID = LOCATION_ID
    return settings
