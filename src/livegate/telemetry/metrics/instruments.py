"""Counter, gauge and histogram families rendered by one collector, without ``_created`` series.

prometheus-client's own metric classes add a ``_created`` sample to every counter and
histogram unless the process-wide ``disable_created_metrics()`` switch is thrown (global
mutable state, which livegate avoids). These families keep their values in plain dicts
(label values tuple → value) and build ``CounterMetricFamily`` / ``GaugeMetricFamily`` /
``HistogramMetricFamily`` at collection time, which carry no ``_created`` sample.

Writers are the session's event loop (and the alert dispatcher's thread for the alert
counters, one writer per family); a reader (``/metrics`` in a server thread) copies each
dict in one C-level call before iterating, so it never sees a dict change size.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

__all__ = ["CounterFamily", "FamilyCollector", "GaugeFamily", "HistogramFamily"]

LabelValues = tuple[str, ...]


class _Family:
    """Name, help text and label names of one metric family."""

    __slots__ = ("documentation", "labelnames", "name")

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)

    def _check(self, labels: LabelValues) -> None:
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {labels!r}")

    def collect(self) -> Metric:  # pragma: no cover - every family overrides it
        """Return the family with its samples."""
        raise NotImplementedError


class CounterFamily(_Family):
    """A monotonically increasing counter per label set; the name ends in ``_total``."""

    __slots__ = ("values",)

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        if not name.endswith("_total"):
            raise ValueError(f"counter {name} must end in _total (Prometheus naming)")
        super().__init__(name, documentation, labelnames)
        self.values: dict[LabelValues, float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        """Add ``amount`` (>= 0) to the series of ``labels``.

        Raises
        ------
        ValueError
            If ``amount`` is negative or the label count is wrong.
        """
        if amount < 0:
            raise ValueError(f"{self.name}: a counter cannot decrease (amount {amount})")
        values = self.values
        if labels not in values:
            self._check(labels)
            values[labels] = 0.0
        values[labels] += amount

    def touch(self, *labels: str) -> None:
        """Create the series of ``labels`` at 0 so it is exported before its first event."""
        self.inc(*labels, amount=0.0)

    def value(self, *labels: str) -> float:
        """Return the series' value (0 when absent)."""
        return self.values.get(labels, 0.0)

    def collect(self) -> Metric:
        """Return a ``CounterMetricFamily`` (``_total`` samples only)."""
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in sorted(self.values.copy().items()):
            family.add_metric(labels, value)
        return family


class GaugeFamily(_Family):
    """A value that goes up and down per label set."""

    __slots__ = ("values",)

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, documentation, labelnames)
        self.values: dict[LabelValues, float] = {}

    def set(self, *labels: str, value: float) -> None:
        """Set the series of ``labels`` to ``value``.

        Raises
        ------
        ValueError
            If the label count is wrong.
        """
        values = self.values
        if labels not in values:
            self._check(labels)
        values[labels] = value

    def value(self, *labels: str) -> float | None:
        """Return the series' value, or None when absent."""
        return self.values.get(labels)

    def collect(self) -> Metric:
        """Return a ``GaugeMetricFamily``."""
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in sorted(self.values.copy().items()):
            family.add_metric(labels, value)
        return family


class _Series:
    """Bucket counts (not cumulative) and the sum of one histogram series."""

    __slots__ = ("counts", "total")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size
        self.total = 0.0


class HistogramFamily(_Family):
    """Observations in cumulative ``le`` buckets (upper bounds in the metric's unit) plus ``+Inf``."""

    __slots__ = ("_bounds", "_le", "series")

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]) -> None:
        super().__init__(name, documentation, labelnames)
        bounds = sorted(buckets)
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError(f"{name}: buckets must be distinct and non-empty")
        self._bounds = bounds
        self._le = [repr(float(b)) for b in bounds] + ["+Inf"]
        self.series: dict[LabelValues, _Series] = {}

    def observe(self, *labels: str, value: float) -> None:
        """Count ``value`` in its bucket of the series of ``labels``.

        Raises
        ------
        ValueError
            If the label count is wrong.
        """
        series = self.series.get(labels)
        if series is None:
            self._check(labels)
            series = self.series[labels] = _Series(len(self._le))
        series.counts[bisect_left(self._bounds, value)] += 1
        series.total += value

    def count(self, *labels: str) -> int:
        """Return how many values the series of ``labels`` observed."""
        series = self.series.get(labels)
        return 0 if series is None else sum(series.counts)

    def collect(self) -> Metric:
        """Return a ``HistogramMetricFamily`` (``_bucket``, ``_count``, ``_sum``)."""
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, series in sorted(self.series.copy().items()):
            counts, total = series.counts[:], series.total
            cumulative, buckets = 0, []
            for le, count in zip(self._le, counts, strict=True):
                cumulative += count
                buckets.append((le, float(cumulative)))
            family.add_metric(labels, buckets, total)
        return family


class FamilyCollector:
    """Expose a fixed list of families through a ``CollectorRegistry``.

    Parameters
    ----------
    families:
        The families, in exposition order.
    """

    def __init__(self, families: Iterable[_Family]) -> None:
        self._families = tuple(families)

    def collect(self) -> Iterator[Metric]:
        """Yield every family with its current samples."""
        for family in self._families:
            yield family.collect()

    def describe(self) -> Iterator[Metric]:
        """Yield every family (the registry uses the names to refuse duplicates)."""
        return self.collect()

    def register(self, registry: CollectorRegistry) -> None:
        """Add this collector to ``registry``."""
        registry.register(self)
