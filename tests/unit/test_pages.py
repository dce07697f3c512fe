"""eksmon.aws.pages: a list paged by one next token is read page by page through the client's own method;
every other kind of paging goes through botocore's paginator; neither pages for ever."""

from __future__ import annotations

from typing import Any

import pytest

from eksmon.aws import EndlessPages, limit_pages, pages


class _Meta:
    def __init__(self, service: str, api_version: str, mapping: dict[str, str]) -> None:
        self.method_to_api_mapping = mapping

        class ServiceModel:
            service_name = service

        ServiceModel.api_version = api_version  # type: ignore[attr-defined]
        self.service_model = ServiceModel()


class _Eks:
    """An EKS client as pages() sees it: ListUpdates answers from ``answers``, one page per call."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.meta = _Meta("eks", "2017-11-01", {"list_updates": "ListUpdates"})
        self.answers = answers
        self.sent: list[dict[str, Any]] = []

    def list_updates(self, **params: Any) -> dict[str, Any]:
        self.sent.append(params)
        return self.answers[min(len(self.sent), len(self.answers)) - 1]

    def get_paginator(self, operation: str) -> Any:
        raise AssertionError("a one-token list is paged without botocore's paginator")


def test_each_page_is_asked_for_with_the_previous_pages_token_and_the_page_size() -> None:
    client = _Eks([{"updateIds": ["a", "b"], "nextToken": "t1"}, {"updateIds": ["c"], "nextToken": None}])
    got = list(pages(client, "list_updates", "updateIds", name="prod", PaginationConfig={"PageSize": 2}))
    assert got == ["a", "b", "c"]
    assert client.sent == [
        {"name": "prod", "maxResults": 2},
        {"name": "prod", "maxResults": 2, "nextToken": "t1"},
    ]


def test_a_page_without_a_token_or_with_an_empty_one_is_the_last() -> None:
    for last in ({"updateIds": ["a"]}, {"updateIds": ["a"], "nextToken": ""}):
        client = _Eks([last])
        assert list(pages(client, "list_updates", "updateIds", name="prod")) == ["a"]
        assert len(client.sent) == 1


def test_the_same_token_twice_is_an_endless_list() -> None:
    client = _Eks([{"updateIds": ["a"], "nextToken": "t1"}])  # every page says t1 again
    with pytest.raises(EndlessPages, match="same next token"):
        list(pages(client, "list_updates", "updateIds", name="prod"))
    assert len(client.sent) == 2


def test_a_fresh_token_on_every_page_stops_at_the_page_ceiling() -> None:
    client = _Eks([])
    client.list_updates = lambda **p: (
        client.sent.append(p)
        or {  # type: ignore[method-assign]
            "updateIds": ["x"],
            "nextToken": f"t{len(client.sent)}",
        }
    )
    limit_pages(client, 5)
    with pytest.raises(EndlessPages, match="more than 5 pages"):
        list(pages(client, "list_updates", "updateIds", name="prod"))
    assert len(client.sent) == 6  # the ceiling, and the page that proves it goes on


class _Iam:
    """ListRoles pages by a Marker and an IsTruncated flag: botocore's paginator pages it."""

    def __init__(self) -> None:
        self.meta = _Meta("iam", "2010-05-08", {"list_roles": "ListRoles"})

    def get_paginator(self, operation: str) -> Any:
        class Paginator:
            def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                return [{"Roles": ["r1"], "IsTruncated": True, "Marker": "m"}, {"Roles": ["r2"]}]

        return Paginator()


def test_any_other_paging_goes_through_botocores_paginator() -> None:
    assert list(pages(_Iam(), "list_roles", "Roles")) == ["r1", "r2"]
    # a caller asking for more than a page size (MaxItems, StartingToken) gets botocore's paginator too
    eks = _Eks([])
    eks.get_paginator = lambda op: _Iam().get_paginator(op)  # type: ignore[method-assign]
    assert list(pages(eks, "list_updates", "Roles", PaginationConfig={"MaxItems": 1})) == ["r1", "r2"]
