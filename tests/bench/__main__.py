"""`python -m tests.bench`: runs every benchmark and prints one table per benchmark."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from tests.bench.cold_start_bench import import_rows, layer_rows
from tests.bench.growth_bench import growth_rows
from tests.bench.monitor_bench import run_monitor_bench
from tests.bench.sse_bench import sse_latency_rows, sse_reads_rows
from tests.bench.stream_bench import run_stream_bench

Bench = Callable[[], list[dict[str, Any]]]

# Add benchmarks here: a function returning rows (dicts with the same keys print as one table).
BENCHES: list[Bench] = [
    import_rows,
    layer_rows,
    growth_rows,
    run_stream_bench,
    sse_latency_rows,
    sse_reads_rows,
    run_monitor_bench,
]


def format_table(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(name for name in row if name not in columns)
    cells = [[str(row.get(name, "")) for name in columns] for row in rows]
    widths = [max(len(name), *(len(line[i]) for line in cells)) for i, name in enumerate(columns)]

    def line(values: list[str]) -> str:
        return " | ".join(value.rjust(width) for value, width in zip(values, widths, strict=True))

    rule = "-+-".join("-" * width for width in widths)
    return "\n".join([line(columns), rule, *(line(values) for values in cells)])


def main(benches: list[Bench] = BENCHES) -> int:
    for bench in benches:
        rows = bench()
        print(f"\n{bench.__name__}")
        print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
