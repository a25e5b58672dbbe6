"""What to do about a Prefect that failbrief cannot use, for the commands that talk to it
(`check`, `setup-prefect`): the fix that goes with `runs.diagnose.prefect_trouble`'s sentence."""

from __future__ import annotations

from failbrief.runs.errors import PrefectAuthError, PrefectError, PrefectUnavailable

START_PREFECT = (
    "start Prefect, or set PREFECT_API_URL (or --prefect-url) to its REST API as this host reaches it "
    "(ending in /api)"
)
API_URL_SHAPE = (
    "set PREFECT_API_URL (or --prefect-url) to Prefect's REST API, ending in /api: http://HOST:4200/api, "
    "or Prefect Cloud's https://api.prefect.cloud/api/accounts/ID/workspaces/ID"
)
API_KEY = "set PREFECT_API_KEY to a key this Prefect accepts (Prefect Cloud: an API key of the workspace)"


def prefect_fix(exc: PrefectError) -> str:
    if isinstance(exc, PrefectAuthError):
        return API_KEY
    if isinstance(exc, PrefectUnavailable):
        return START_PREFECT
    # A 404, or an answer that is not Prefect's JSON (its UI's HTML): not the REST API's URL.
    return API_URL_SHAPE
