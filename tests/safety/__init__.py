"""Hostile input, one test module (or more) per class of the safety contract.

1. Tables are catalog tables only: test_tables.py.
2. Jinja vars cannot change the structure: test_templates.py.
3. No credential in any message: test_redaction.py.
4. Declared names only, on request (strict=True): test_strict.py.
5. Files and tables the tool writes: test_docs_out.py (docs --out), test_quarantine.py
   (check --quarantine, on every selected backend too), test_demo_db.py (demo --db).
6. Bounded work: test_yaml_bombs.py, test_templates.py (rendering), test_limits.py (limit=,
   spines, expression size, parse cache, funnel window, timezones), test_bounded_memory.py
   (10 s and 1 GiB, measured in a fresh process).
7. Clear errors, never a raw exception: test_hostile_corpus.py.
8. Two processes, one DuckDB file: test_readonly.py.
"""
