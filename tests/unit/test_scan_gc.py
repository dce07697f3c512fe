"""A scan runs with fewer garbage-collector passes, and leaves the collector as it found it."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest

from eksmon.aws import pages
from eksmon.engine import GC_YOUNG_THRESHOLD, fewer_gc_passes


@pytest.fixture(autouse=True)
def default_collector() -> Any:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)
    gc.unfreeze()


def test_during_a_scan_older_objects_are_frozen_and_young_passes_are_rarer() -> None:
    made_before = [object() for _ in range(3)]  # noqa: F841 - alive, so frozen below
    with fewer_gc_passes():
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_a_higher_threshold_set_by_the_application_is_kept() -> None:
    gc.set_threshold(GC_YOUNG_THRESHOLD * 2, 20, 30)
    with fewer_gc_passes():
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD * 2, 20, 30)
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD * 2, 20, 30)


def test_the_collector_is_restored_after_a_failed_scan() -> None:
    with pytest.raises(RuntimeError), fewer_gc_passes():
        raise RuntimeError("the scan failed")
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_overlapping_scans_restore_the_collector_only_when_the_last_one_ends() -> None:
    inner_started, outer_done = threading.Event(), threading.Event()

    def inner() -> None:
        with fewer_gc_passes():
            inner_started.set()
            outer_done.wait(5)
            assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD  # the outer scan ended first

    with fewer_gc_passes():
        thread = threading.Thread(target=inner)
        thread.start()
        inner_started.wait(5)
    outer_done.set()
    thread.join(5)
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


class _Client:
    """A client whose paginator is counted (botocore builds a new paginator class per get_paginator)."""

    class meta:
        method_to_api_mapping = {"list_things": "ListThings"}

    def __init__(self) -> None:
        self.made = 0

    def get_paginator(self, operation: str) -> Any:
        self.made += 1

        class Paginator:
            def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                return [{"things": [kwargs["name"], 1]}, {"things": [2]}]

        return Paginator()


def test_a_client_makes_each_paginator_once() -> None:
    client = _Client()
    assert list(pages(client, "list_things", "things", name="a")) == ["a", 1, 2]
    assert list(pages(client, "list_things", "things", name="b")) == ["b", 1, 2]
    assert client.made == 1
