"""Latency of reading a stored summary through the API on PostgreSQL, at a fixed rate, next to the
same server answering an unauthenticated request (the floor).

    python -m bench.read_summary [--rate 50] [--count 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import httpx

from bench.harness import ROOT, fixed_rate, server_env, web_server

RUN = "0b59dfe2-2741-41e2-8685-dbc036b23e5d"
STORE = f"""
import django; django.setup()
from failbrief.orgs.models import Org
from failbrief.summarize.store import claim_summary, complete_summary, link_runs
org = Org.objects.get(slug="bench")
for i in range(3):
    row, _ = claim_summary(org, "{RUN}", f"task-{{i}}", "bench", position=i, task_name=f"task {{i}}")
    link_runs(row, ["{RUN}"])
    complete_summary(row, root_cause="column o.amount_usd does not exist", category="schema_mismatch",
                     evidence=["Database Error in model customer_revenue"] * 5,
                     response=[{{"prompt": "Summary", "response": "x" * 500}}])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    with web_server() as (base, token):
        env = server_env(8000) | {"DJANGO_SETTINGS_MODULE": "failbrief.settings"}
        subprocess.run([sys.executable, "-c", STORE], env=env, check=True, cwd=ROOT)
        auth = {"Authorization": f"Bearer {token}"}

        def read(client: httpx.Client, i: int) -> int:
            return client.get(f"{base}/api/v1/flow-runs/{RUN}/summaries", headers=auth).status_code

        def floor(client: httpx.Client, i: int) -> int:
            return 200 if client.get(f"{base}/api/v1/flow-runs/{RUN}/summaries").status_code == 401 else 500

        fixed_rate("warm-up", args.rate, 100, read)
        reference = fixed_rate("reference: same route, 401 before any query", args.rate, args.count, floor)
        ours = fixed_rate("read a run's 3 stored summaries (token + query)", args.rate, args.count, read)
    print(f"rate {args.rate:.0f}/s, gunicorn 2 workers x 4 threads, PostgreSQL on 127.0.0.1")
    print(reference.line())
    print(ours.line())


if __name__ == "__main__":
    main()
