"""gunicorn's own settings, read from the working directory by every gunicorn the platform starts
(``manage.py platform_run``, the Dockerfile's and docker-compose.yml's web): their command lines
say where to bind and how many workers; this file says what their logs may hold.

The access and error logs pass every line through config.log_redaction.SecretsRedacted, as
Django's logging does: Open311's ``api_key`` travels in the query string, which gunicorn's access
log writes whole (``"%(r)s"``, the request line, and ``"%(f)s"``, the referrer).
"""

from gunicorn.glogging import Logger

from config.log_redaction import SecretsRedacted


class SecretsRedactedLogger(Logger):
    """gunicorn's logger with SecretsRedacted on its error and access loggers, so that it holds
    for every handler gunicorn gives them (a file, stdout, syslog or a logconfig_dict)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            # setup runs again on each reload (SIGHUP): one filter each, not one per reload.
            if not any(isinstance(f, SecretsRedacted) for f in log.filters):
                log.addFilter(SecretsRedacted())


logger_class = SecretsRedactedLogger
