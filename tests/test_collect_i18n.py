"""The drawing page in the writers' languages: the catalogues against the templates, and the pages they make."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

from generator.collect import i18n
from generator.collect.app import create_app
from generator.collect.storage import Storage
from generator.registry import NumeralSystem, resolve

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "generator" / "collect" / "static"
_PLACEHOLDER = re.compile(r"%\(\w+\)s")
_TAG = re.compile(r"<[^>]+>")


def extracted_msgids() -> set[str]:
    """Every message the sources named in babel.cfg hold, extracted as `pybabel extract` would."""
    config = configparser.ConfigParser()
    config.read(i18n.LOCALE_DIR / "babel.cfg")
    found: set[str] = set()
    for section in config.sections():
        method, _, path = section.partition(":")
        options = dict(config.items(section))
        for _line, message, _comments, _context in extract_from_file(
            method.strip(), str(ROOT / path.strip()), options=options
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue(code: str):  # type: ignore[no-untyped-def]
    path = i18n.LOCALE_DIR / ("messages.pot" if code == "pot" else f"{code}/LC_MESSAGES/messages.po")
    with path.open("rb") as source:
        return read_po(source)


@pytest.fixture
def client(tmp_path: Path, vai: NumeralSystem):
    storage = Storage(str(tmp_path / "collect.sqlite"))
    with TestClient(create_app(storage, [vai, *resolve(["nko"])])) as test_client:
        yield test_client
    storage.close()


def messages_of(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="messages">(.*?)</script>', html, re.S)
    assert block is not None
    return json.loads(block.group(1))


# --- the catalogues --------------------------------------------------------------------------------------------


def test_every_message_of_the_templates_is_in_every_catalogue():
    """A message added to a template without `pybabel extract` and `update` fails here, naming it."""
    wanted = extracted_msgids()
    assert len(wanted) > 60  # the drawing page, its prompts, the scripts' names and the numbers in words
    assert {"I agree, let me draw", "Done", "four", "N'Ko"} <= wanted
    for code in ["pot", *(language.code for language in i18n.languages()[1:])]:
        held = {message.id for message in catalogue(code) if message.id}
        assert wanted - held == set(), f"{code}: messages missing; run pybabel extract and update (README)"
        assert held - wanted == set(), f"{code}: messages no template uses any more; run pybabel update"


def test_translations_keep_placeholders_and_markup():
    """A translation that drops %(count)s or the <strong id=...> the script fills would break the page."""
    for language in i18n.languages()[1:]:
        for message in catalogue(language.code):
            if not message.id or not message.string:
                continue
            assert sorted(_PLACEHOLDER.findall(message.string)) == sorted(_PLACEHOLDER.findall(message.id)), (
                language.code,
                message.id,
            )
            assert sorted(_TAG.findall(message.string)) == sorted(_TAG.findall(message.id)), (language.code, message.id)


def test_french_is_complete_and_drafts_are_not_shown():
    french = [message for message in catalogue("fr") if message.id]
    assert all(message.string and not message.fuzzy for message in french)
    assert i18n.share_in_use("fr") == 1.0
    amharic = i18n.translations("am")
    assert amharic.gettext("Clear") == "አጥፋ"  # a short label, in use
    drafts = [message for message in catalogue("am") if message.fuzzy and message.id]
    assert drafts  # the sentences wait for a native speaker
    for draft in drafts:
        assert amharic.gettext(draft.id) == draft.id  # a fuzzy draft is not shown: the English is


def test_languages_name_themselves_and_know_their_direction():
    by_code = {language.code: language for language in i18n.languages()}
    assert next(iter(by_code)) == "en"
    assert {"en", "fr", "am", "so", "nqo"} <= set(by_code)
    assert (by_code["fr"].name, by_code["fr"].direction) == ("français", "ltr")
    assert (by_code["am"].name, by_code["nqo"].name) == ("አማርኛ", "ߒߞߏ")
    assert by_code["nqo"].direction == "rtl"
    # Adlam-script Fulfulde would need only its catalogue: CLDR says it runs right to left.
    assert i18n._language("ff_Adlm") == i18n.Language("ff-Adlm", i18n._language("ff_Adlm").name, "rtl")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
        ("de-DE, so;q=0.3", "en"),  # Somali's catalogue is mostly drafts: not chosen for a browser
        ("nqo-GN, fr;q=0.8", "fr"),  # so is N'Ko's: the next language the browser reads
        ("fr;q=0, en", "en"),
        ("*", "en"),
        ("", "en"),
        (";;;,,q=abc,fr;q=2", "fr"),  # junk is passed over, and a q out of range counts as 1
    ],
)
def test_accept_language(header: str, expected: str):
    assert i18n.choose(None, None, header).code == expected


def test_the_picker_and_the_cookie_win_over_the_browser():
    assert i18n.choose("nqo", None, "fr").code == "nqo"  # the picker offers every language
    assert i18n.choose(None, "so", "fr").code == "so"
    assert i18n.choose("xx", "<script>", "fr").code == "fr"  # unknown or hostile values are passed over


# --- the pages -------------------------------------------------------------------------------------------------


def test_french_page(client: TestClient):
    page = client.get("/", headers={"accept-language": "fr-FR,fr;q=0.9"})
    assert page.status_code == 200
    assert page.headers["content-language"] == "fr"
    assert '<html lang="fr" dir="ltr">' in page.text
    french = ("J\u2019accepte, je veux dessiner", "Avant de commencer", "Terminé", "J\u2019ai 16 ans ou plus.")
    for text in french:
        assert text in page.text
    assert "I agree" not in page.text
    assert 'rel="license">CC BY-SA 4.0</a>' in page.text
    words = messages_of(page.text)
    assert words["prompt"] == "Dessinez ce chiffre %(script)s : %(number)s"
    assert words["scripts"] == {"vai": "vaï", "nko": "n\u2019ko"}
    assert words["numbers"][4] == "quatre"


def test_right_to_left_page_and_the_remembered_choice(client: TestClient):
    page = client.get("/?lang=nqo", headers={"accept-language": "en"})
    assert '<html lang="nqo" dir="rtl">' in page.text
    assert page.cookies.get(i18n.LANGUAGE_COOKIE) == "nqo"
    assert messages_of(page.text)["scripts"]["nko"] == "ߒߞߏ"
    # Every language is offered in the picker, each link in its own language and direction.
    assert 'href="?lang=nqo" lang="nqo" dir="rtl"' in page.text
    assert 'href="?lang=fr" lang="fr" dir="ltr"' in page.text
    again = client.get("/", headers={"accept-language": "fr"})  # the cookie, set by the picker, wins
    assert '<html lang="nqo" dir="rtl">' in again.text
    back = client.get("/?lang=en")
    assert '<html lang="en" dir="ltr">' in back.text


def test_every_word_the_script_shows_comes_from_the_page(client: TestClient):
    """draw.js reads its words from the page's #messages: each key it names must be there, in every language."""
    script = (STATIC / "draw.js").read_text()
    used = set(re.findall(r"words\.(\w+)", script))
    used |= set(re.findall(r'PostFailure\("(\w+)"', script))  # a failure's kind names the words shown for it
    assert {"prompt", "saved", "restarted"} <= used
    for language in i18n.languages():
        words = messages_of(client.get(f"/?lang={language.code}").text)
        assert used - set(words) == set(), language.code
        assert all(isinstance(value, str | dict | list) and value for value in words.values())
