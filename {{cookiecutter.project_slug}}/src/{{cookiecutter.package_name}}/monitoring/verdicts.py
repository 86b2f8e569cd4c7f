"""The verdicts of a monitor run, apart from the statistics: the server's /metrics names them without importing SciPy.

OK, or an alarm (DRIFT, QUALITY: exit 1), or the monitor could not see (TOO_LITTLE: exit 2) or could
not run at all (FAILED: exit 3). Drift and a quality drop together are reported as DRIFT, both named.
"""

OK, DRIFT, QUALITY, TOO_LITTLE, FAILED = "ok", "drift", "quality", "too_little_data", "failed"
VERDICTS = (OK, DRIFT, QUALITY, TOO_LITTLE, FAILED)
