"""``manage.py calendar_import FILE``: make the State Council's holiday notice of a year (a CSV
file: core/holiday_notice.py) the calendar of that year, moving the running deadlines over the
days it changes. A bad file changes nothing: each bad line is named and the exit status is 1.
``--check`` only checks the file."""

from django.core.management.base import BaseCommand, CommandError

from core.holiday_notice import NoticeInvalid, holiday_notice_import, notice_parse


class Command(BaseCommand):
    help = "Import the State Council's holiday notice of a year (CSV) into the business calendar."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the notice as CSV (format: core/holiday_notice.py)")
        parser.add_argument(
            "--check", action="store_true", help="check the file only; change nothing"
        )

    def handle(self, *args, file, check, **options):
        try:
            with open(file, "rb") as stream:
                content = stream.read()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        try:
            if check:
                parsed = notice_parse(content)
                self.stdout.write(
                    f"{file}: {parsed.year} {parsed.title}: {len(parsed.days)} days, valid"
                )
                return
            done = holiday_notice_import(content=content)
        except NoticeInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"{file}: {error}")
            raise CommandError(
                f"{file}: refused ({len(exc.errors)} error(s)); nothing changed"
            ) from None
        notice = done.notice
        if done.unchanged:
            self.stdout.write(f"{notice.year}: {notice.title}: already imported; nothing changed")
            return
        marked = sum(getattr(effect, "marked", 0) for effect in done.effects)
        kept = sum(getattr(effect, "kept_resumed", 0) for effect in done.effects)
        self.stdout.write(
            f"{notice.year}: {notice.title}: imported; {len(done.days)} day(s) changed; "
            f"{done.moved} running deadline(s) moved, {marked} provisional mark(s) lifted or set, "
            f"{kept} kept (restarted after a suspension)"
        )
