"""Every request a scan makes is valid by botocore's models, though the shipped configuration leaves
botocore's client-side validation off (aws.validate_parameters: AWS validates each request itself)."""

from __future__ import annotations

import botocore.exceptions
import pytest

from eksmon.aws import client_config
from eksmon.engine import COLLECTION_ERROR, scan
from eksmon.settings import parse_settings
from eksmon.sim.fleet import DEMO_FLEET, DEMO_NOW, DEMO_REGIONS
from eksmon.sim.server import Simulator


def test_every_request_of_a_demo_scan_passes_botocores_validation(demo_sim: Simulator) -> None:
    settings = parse_settings(
        {
            "regions": list(DEMO_REGIONS),
            "kubernetes": {"enabled": False},
            "aws": {"validate_parameters": True},
        }
    )
    result = scan(settings, DEMO_NOW, session_factory=demo_sim.session_factory())
    assert len(result.clusters) == len(DEMO_FLEET)
    assert result.api_calls.total > 100  # every collector of the AWS-side monitors ran
    assert [f.message for f in result.findings if f.check == COLLECTION_ERROR] == []


def test_validation_is_off_by_default_and_refuses_a_bad_request_when_on(demo_sim: Simulator) -> None:
    session = demo_sim.session_factory()(region_name=DEMO_REGIONS[0])
    strict = parse_settings({"aws": {"validate_parameters": True}}).aws
    client = session.client("eks", region_name=DEMO_REGIONS[0], config=client_config(strict))
    sent = len(demo_sim.calls("eks"))
    with pytest.raises(botocore.exceptions.ParamValidationError, match="maxResults"):
        client.list_clusters(maxResults="many")
    assert len(demo_sim.calls("eks")) == sent  # refused before it was sent

    default = parse_settings({}).aws
    assert default.validate_parameters is False
    client = session.client("eks", region_name=DEMO_REGIONS[0], config=client_config(default))
    with pytest.raises(botocore.exceptions.ClientError):  # sent as it is: the service refuses it
        client.list_clusters(maxResults="many")
    assert len(demo_sim.calls("eks")) > sent
