"""What the tests share, imported as ``helpers.<module>`` (pytest puts tests/ on sys.path).

- ``payloads``: a minimal valid wire payload and Hypothesis strategies for type-correct wire
  objects, for the codec's own tests.
- ``driving``: drive a batch along the lifecycle table to any status, and a settable clock.
- ``hand_changed``: driven batches with attributes set by hand to anything.
- ``hypothesis_settings``: settings for Hypothesis tests with function-scoped fixtures.
- ``postgres``: a PostgreSQL server for the store's tests (CI's, or one started here).
- ``store_workers``: the worker processes of the store's race and crash tests, spawned by name.
"""
