"""Secrets kept out of the logs: a key in a URL's query string is written as ``[redacted]``.

Open311 takes its ``api_key`` in the query string (GeoReport v2), so the request line of every
call carries a working key: runserver's request log (``django.server``) and gunicorn's access log
would keep it for whoever reads the logs. Every handler of settings.LOGGING and gunicorn's logs
(``gunicorn.conf.py``) pass their lines through SecretsRedacted, which rewrites
``api_key=sx_…`` to ``api_key=[redacted]`` wherever it stands in the line (request line,
referrer, a message of ours), the other parameters untouched.

Imported by the logging configuration, before Django's apps are loaded: standard library only.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

# Query parameters that carry a credential, compared after percent-decoding and in any case
# (``api%5Fkey`` is Django's ``api_key``). Only ``api_key`` is read by the platform today
# (enforcement.api.open311); the others are the usual names of a key or token, kept out of the
# logs should a client or a later endpoint send one.
SECRET_PARAMETERS = frozenset({"api_key", "apikey", "key", "token", "access_token", "password"})
REDACTED = "[redacted]"

# One ``name=value`` of a query string: after "?" or "&", up to the next "&", blank, quote or "#".
_PARAMETER = re.compile(r"(?<=[?&])(?P<name>[^?&=\s\"'#]+)=(?P<value>[^&\s\"'#]*)")


def secrets_redact(text: str) -> str:
    """``text`` with the value of every secret query parameter replaced by ``[redacted]``."""
    if "=" not in text:
        return text

    def replace(match: re.Match) -> str:
        if unquote_plus(match["name"]).lower() in SECRET_PARAMETERS:
            return f"{match['name']}={REDACTED}"
        return match[0]

    return _PARAMETER.sub(replace, text)


class SecretsRedacted(logging.Filter):
    """A handler's filter: the record's message (and its traceback's text) redacted, once, in
    place; never drops a record. A record whose message cannot be formatted is left as it is,
    for the handler to report as usual."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging's handleError reports it at emit
            return True
        redacted = secrets_redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # What Formatter.format would write, cached on the record where it looks first.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = secrets_redact(record.exc_text)
        return True
