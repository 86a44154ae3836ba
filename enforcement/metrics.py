"""The closed loop's figures in the Prometheus text format, read from the database on each
scrape (every process of an instance sees the same rows, so there is no per-process state to
aggregate): timers waiting and overdue, the last sweep, lateness, open supervisions."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.calendar import calendar_official_until
from enforcement.choices import SupervisionState, TimerState
from enforcement.models import Supervision, Timer
from enforcement.models.timers import LIVE_STATES, SWEPT_STATES

# Lateness is summarised over the timers fired in this window.
LATENESS_WINDOW = timedelta(hours=1)
# ... and at most this many of them (the newest), to keep a scrape cheap.
LATENESS_SAMPLE = 10_000


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class LoopCollector(Collector):
    def collect(self):
        from enforcement.tasks import LAST_SWEEP_KEY

        now = timezone.now()
        pending = GaugeMetricFamily(
            "shaoxiang_timers_pending",
            "Timers waiting for a warning or deadline.",
            labels=["stage"],
        )
        for stage, n in (
            Timer.objects.filter(state__in=SWEPT_STATES)
            .values_list("stage")
            .annotate(n=Count("pk"))
            .order_by("stage")
        ):
            pending.add_metric([stage], n)
        yield pending

        # Past their next look by more than a sweep interval: the sweeper is behind or down.
        behind = now - timedelta(seconds=settings.TIMER_SWEEP_SECONDS)
        yield GaugeMetricFamily(
            "shaoxiang_timers_overdue_unfired",
            "Timers whose warning or deadline passed more than a sweep interval ago, not yet "
            "handled.",
            value=Timer.objects.filter(state__in=SWEPT_STATES, next_at__lt=behind).count(),
        )

        last = cache.get(LAST_SWEEP_KEY) or {}
        yield GaugeMetricFamily(
            "shaoxiang_timer_sweep_duration_seconds",
            "Duration of the last timer sweep.",
            value=last.get("duration", 0.0),
        )
        yield GaugeMetricFamily(
            "shaoxiang_timer_sweep_fired",
            "Timers fired by the last sweep.",
            value=last.get("fired", 0),
        )

        lateness = [
            d.total_seconds()
            for d in Timer.objects.filter(
                state=TimerState.FIRED, fired_at__gte=now - LATENESS_WINDOW
            )
            .order_by("-fired_at")
            .values_list("lateness", flat=True)[:LATENESS_SAMPLE]
            if d is not None
        ]
        quantiles = GaugeMetricFamily(
            "shaoxiang_timer_lateness_seconds",
            "How late timers fired in the last hour were fired (fired minus due).",
            labels=["quantile"],
        )
        for q in ("0.5", "0.99"):
            quantiles.add_metric([q], _quantile(lateness, float(q)))
        yield quantiles

        supervisions = GaugeMetricFamily(
            "shaoxiang_supervisions_open", "Open supervisions (督办) by level.", labels=["level"]
        )
        counts = dict(
            Supervision.objects.filter(state=SupervisionState.OPEN)
            .values_list("level")
            .annotate(n=Count("pk"))
        )
        for level in (1, 2, 3):
            supervisions.add_metric([str(level)], counts.get(level, 0))
        yield supervisions

        # How far the State Council's holiday data reaches (core.calendar): alert well before
        # it runs out, e.g. shaoxiang_calendar_official_until - time() < 60 * 86400.
        until = calendar_official_until(timezone.localdate())
        end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
        yield GaugeMetricFamily(
            "shaoxiang_calendar_official_until",
            "End of the last day covered by official holiday data (Unix time): after it, "
            "deadlines count statutory holidays by rule and are provisional.",
            value=end.timestamp(),
        )
        yield GaugeMetricFamily(
            "shaoxiang_timers_provisional",
            "Running timers whose deadline was counted over a provisional calendar year.",
            value=Timer.objects.filter(state__in=LIVE_STATES, provisional=True).count(),
        )
