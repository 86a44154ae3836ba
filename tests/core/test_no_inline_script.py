"""No page of ours carries inline script: no event-handler attributes (onchange=, onclick= …),
no <script> with a body, no javascript: URL (what a strict Content-Security-Policy refuses)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]
    for path in folder.rglob("*.html")
)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
SCRIPT_BODY = re.compile(r"<script\b[^>]*>\s*[^<\s]", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def test_templates_hold_no_inline_script():
    assert TEMPLATES, "no templates found"
    found = [
        f"{path.relative_to(ROOT)}: {pattern.pattern}"
        for path in TEMPLATES
        for pattern in (HANDLER, SCRIPT_BODY, JS_URL)
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_check_finds_what_it_looks_for():
    assert HANDLER.search('<select id="x" onchange="this.form.submit()">')
    assert SCRIPT_BODY.search("<script>alert(1)</script>")
    assert JS_URL.search('<a href="javascript:void(0)">')
    assert not HANDLER.search('<select id="language-select" name="language">')
    assert not SCRIPT_BODY.search('<script src="/static/js/x.js" defer></script>')
