"""`make bench`: run every tests/bench/bench_*.py module's main() and print its figures."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback

import tests.bench as package


def main() -> int:
    """Run the benchmarks one after another; a failing one is reported, the rest still run."""
    names = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("bench_")
    )
    if len(sys.argv) > 1:
        names = [n for n in names if any(arg in n for arg in sys.argv[1:])]
    failures = 0
    for name in names:
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"tests.bench.{name}").main()
        except Exception:  # noqa: BLE001 - report and continue with the next benchmark
            failures += 1
            traceback.print_exc()
        print(f"({time.perf_counter() - started:.1f} s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
