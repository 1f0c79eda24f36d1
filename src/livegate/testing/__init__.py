"""Test machinery shipped with the package, never imported by production code (issue 9 §11).

* :mod:`livegate.testing.hooks` — crash points, venue faults and drift injection, parsed
  from the test variables (``LIVEGATE_CRASH_AT``, ``LIVEGATE_TEST_VENUE_FAULT``,
  ``LIVEGATE_TEST_DRIFT``);
* ``python -m livegate.testing <livegate arguments>`` — installs those hooks, then runs
  the same ``livegate`` CLI (the production ``livegate`` refuses the variables in
  testnet, canary and live, and ignores them elsewhere);
* :mod:`livegate.testing.crash_harness` — SIGKILL a paper session, resume it, check that
  no order was lost or doubled (``tests/recovery``, ``benchmarks/crash.py``).
"""
