"""Exactly one beat: the lease is claimed by a conditional UPDATE and renewed on every tick."""

import os
import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core.choices import Component
from core.models import Heartbeat
from core.services import (
    beat_lease_acquire,
    beat_lease_release,
    beat_lease_renew,
)

pytestmark = pytest.mark.django_db
TTL = timedelta(seconds=20)
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def test_first_beat_claims_and_second_is_refused_naming_the_holder():
    with time_machine.travel(T0, tick=False):
        assert beat_lease_acquire(holder="hostA:100", ttl=TTL) is None
        assert beat_lease_acquire(holder="hostB:200", ttl=TTL) == "hostA:100"

    row = Heartbeat.objects.get(component=Component.BEAT)
    assert (row.holder, row.seen_at) == ("hostA:100", T0)


def test_reacquire_by_the_same_holder_is_a_no_op_success():
    with time_machine.travel(T0, tick=False):
        assert beat_lease_acquire(holder="hostA:100", ttl=TTL) is None
        assert beat_lease_acquire(holder="hostA:100", ttl=TTL) is None


def test_an_expired_lease_is_taken_over_and_the_old_beat_learns_it_on_its_next_tick():
    with time_machine.travel(T0, tick=False):
        beat_lease_acquire(holder="hostA:100", ttl=TTL)
    with time_machine.travel(T0 + TTL + timedelta(seconds=1), tick=False):
        assert beat_lease_acquire(holder="hostB:200", ttl=TTL) is None
        # the stalled beat comes back: its renewal fails, so it stops
        assert beat_lease_renew(holder="hostA:100") is False
        assert beat_lease_renew(holder="hostB:200") is True


def test_a_lease_renewed_within_the_ttl_is_not_taken():
    with time_machine.travel(T0, tick=False):
        beat_lease_acquire(holder="hostA:100", ttl=TTL)
    with time_machine.travel(T0 + timedelta(seconds=15), tick=False):
        assert beat_lease_renew(holder="hostA:100") is True
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert beat_lease_acquire(holder="hostB:200", ttl=TTL) == "hostA:100"


def test_a_released_lease_is_free_at_once_and_keeps_the_last_tick():
    with time_machine.travel(T0, tick=False):
        beat_lease_acquire(holder="hostA:100", ttl=TTL)
        beat_lease_release(holder="hostA:100")
        assert Heartbeat.objects.get(component=Component.BEAT).seen_at == T0
        assert beat_lease_acquire(holder="hostB:200", ttl=TTL) is None


def test_a_lease_of_a_dead_process_on_this_host_is_free_at_once():
    # given a holder on this host whose pid does not exist (pid_max is below 2**22 on Linux)
    dead = f"{socket.gethostname()}:{2**22 + 1}"
    alive = f"{socket.gethostname()}:{os.getpid()}"
    with time_machine.travel(T0, tick=False):
        beat_lease_acquire(holder=dead, ttl=TTL)
        assert beat_lease_acquire(holder="hostB:200", ttl=TTL) is None
        # a live process of this host keeps its lease
        beat_lease_release(holder="hostB:200")
        beat_lease_acquire(holder=alive, ttl=TTL)
        assert beat_lease_acquire(holder="hostB:200", ttl=TTL) == alive


def test_losing_side_of_a_concurrent_claim_gets_the_winner(monkeypatch):
    # given a released lease that another beat claims between our read and our UPDATE
    with time_machine.travel(T0, tick=False):
        beat_lease_acquire(holder="hostA:100", ttl=TTL)
        beat_lease_release(holder="hostA:100")
    real_get_or_create = Heartbeat.objects.get_or_create

    def read_then_lose_the_race(*args, **kwargs):
        row, created = real_get_or_create(*args, **kwargs)
        Heartbeat.objects.filter(pk=row.pk).update(holder="hostB:200", seen_at=T0)
        return row, created

    monkeypatch.setattr(Heartbeat.objects, "get_or_create", read_then_lose_the_race)

    # when this beat claims, then its conditional UPDATE changes nothing and it names the winner
    with time_machine.travel(T0 + timedelta(seconds=1), tick=False):
        assert beat_lease_acquire(holder="hostC:300", ttl=TTL) == "hostB:200"
    assert Heartbeat.objects.get(component=Component.BEAT).holder == "hostB:200"
