"""Recovery: what the customer missed, how safe a resend is, and what their own records say.

Judgment over the canonical attempt table, written as set-based SQL on an `Engine` (like the
analyzers), so a plan over millions of attempts costs a few queries and only the plan's events
come back to Python:
- `categories.py`: the four plan categories and the SQL rule that assigns them;
- `schedule.py`: the sender profile's retry schedule as a SQL table (next attempt, budget left);
- `plan.py`: the replay plan of one endpoint (every event without a 2xx in the window);
- `countdown.py`: the retry-budget countdown and the auto-disable projection;
- `verdicts.py`: a plan as findings and report tables;
- `exports.py`: the plan in the forms the platforms accept for their own replay;
- `run.py`: load the log, build the plan, return one Outcome (the CLI and the app call it);
- `generate.py`: a seeded log with every category planted, for tests and benchmarks.
"""
