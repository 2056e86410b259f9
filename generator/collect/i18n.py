"""The drawing page in the writers' languages: gettext catalogues read with Babel, and the language a request asks for.

Each language has ``locale/<code>/LC_MESSAGES/messages.po``, made from ``locale/messages.pot`` (the
messages of the templates and of this module, extracted by Babel). The package ships the ``.po`` files
only: Babel compiles each into memory the first time it is needed, so there is no compiled ``.mo`` to
keep in step with its source and no build step. As gettext does, a translation marked fuzzy (a draft,
or one whose English has changed since) is not shown; the English text is, until a translator clears
the mark (Poedit: "Needs work").

A page's language is, in order: ``?lang=`` (which the picker's links set, and which is then kept in a
cookie), the cookie, the best match in ``Accept-Language``, English. Its direction comes from the
Unicode CLDR data Babel carries, so a right-to-left language (N'Ko, Adlam) needs nothing but its
catalogue.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from generator.registry import NumeralSystem

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the msgids are English
LANGUAGE_COOKIE = "afro_mnist_lang"
_CODE = re.compile(r"[a-z]{2,3}(?:_[A-Z][a-z]{3})?(?:_[A-Z]{2})?")
# A browser's Accept-Language picks a language only when this share of its catalogue is in use (translated
# and not fuzzy): "nqo, fr" gets the French page while the N'Ko catalogue is mostly empty. The picker
# offers every language whatever its share.
MIN_SHARE_FOR_BROWSERS = 0.5
_QUALITY = re.compile(r"q=([01](?:\.\d{0,3})?)")


def N_(message: str) -> str:  # gettext's name for "mark for extraction, translate later"
    """Marks a message for the catalogue without translating it here: the page translates it when it renders."""
    return message


# The scripts' names as a writer reads them (the registry holds their English names), and the numbers
# that name the classes, in words: the prompt says "the Vai numeral four" in the page's language.
SCRIPT_NAMES = {
    # TRANSLATORS: the names of writing systems (scripts), as the picker of scripts and the prompt show them
    "Adlam": N_("Adlam"),
    "Ethiopic": N_("Ge'ez (Ethiopic)"),
    "Medefaidrin": N_("Medefaidrin"),
    "N'Ko": N_("N'Ko"),
    "Osmanya": N_("Osmanya"),
    "Vai": N_("Vai"),
}
NUMBER_WORDS = (
    # TRANSLATORS: the numbers 0 to 10 in words, as the prompt names the numeral asked for ("four (4)")
    N_("zero"),
    N_("one"),
    N_("two"),
    N_("three"),
    N_("four"),
    N_("five"),
    N_("six"),
    N_("seven"),
    N_("eight"),
    N_("nine"),
    N_("ten"),
)


@dataclass(frozen=True)
class Language:
    """A language the pages are offered in.

    Attributes:
        code: its code as HTML's ``lang`` writes it (BCP 47: ``fr``, ``nqo``, ``ff-Adlm``).
        name: its own name for itself, from CLDR (``français``, ``ߒߞߏ``), for the picker.
        direction: ``ltr`` or ``rtl``, for HTML's ``dir``.
    """

    code: str
    name: str
    direction: str

    @property
    def catalogue_code(self) -> str:
        return self.code.replace("-", "_")


@functools.cache
def languages() -> tuple[Language, ...]:
    """English, then every language with a catalogue in the package, by code."""
    codes = sorted(path.parent.parent.name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return tuple(_language(code) for code in [SOURCE_LANGUAGE, *(c for c in codes if c != SOURCE_LANGUAGE)])


def _language(catalogue_code: str) -> Language:
    try:
        locale = Locale.parse(catalogue_code)
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"{LOCALE_DIR / catalogue_code}: not a language CLDR knows ({exc})") from None
    direction = "rtl" if locale.character_order == "right-to-left" else "ltr"
    name = locale.get_display_name(locale) or catalogue_code
    return Language(catalogue_code.replace("_", "-"), name, direction)


def language(code: str) -> Language:
    """The offered language with this code (``fr``, ``ff-Adlm`` or ``ff_Adlm``).

    Raises:
        KeyError: a language the pages are not offered in.
    """
    for offered in languages():
        if offered.code.lower() == code.replace("_", "-").lower():
            return offered
    raise KeyError(code)


@functools.cache
def translations(code: str) -> NullTranslations:
    """The gettext translations of an offered language: its catalogue without fuzzy entries, compiled in memory."""
    chosen = language(code)
    if chosen.code == SOURCE_LANGUAGE:
        return NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, _catalogue(chosen), use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _catalogue(chosen: Language) -> Catalog:
    path = LOCALE_DIR / chosen.catalogue_code / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        return read_po(source, locale=chosen.catalogue_code, domain=DOMAIN)


def from_accept_language(header: str) -> Language | None:
    """The offered language an ``Accept-Language`` header prefers most, or None when it names none of them.

    ``fr-CA`` matches ``fr``; ``*``, languages with ``q=0``, and languages whose catalogue is less than
    ``MIN_SHARE_FOR_BROWSERS`` in use are passed over.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, parameters = part.strip().partition(";")
        quality = _QUALITY.search(parameters.replace(" ", ""))
        weight = float(quality.group(1)) if quality else 1.0
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, position, tag.strip()))
    for _weight, _position, tag in sorted(ranked):
        subtags = tag.replace("_", "-").split("-")
        # The longest offered prefix: ff-Adlm-GN is ff-Adlm when offered, else ff.
        for length in range(len(subtags), 0, -1):
            try:
                found = language("-".join(subtags[:length]))
            except KeyError:
                continue
            if share_in_use(found.code) >= MIN_SHARE_FOR_BROWSERS:
                return found
            break
    return None


@functools.cache
def share_in_use(code: str) -> float:
    """The share of the catalogue's messages that the page shows translated (1 for English)."""
    chosen = language(code)
    if chosen.code == SOURCE_LANGUAGE:
        return 1.0
    catalogue = _catalogue(chosen)
    messages = [message for message in catalogue if message.id]
    used = [message for message in messages if message.string and not message.fuzzy]
    return len(used) / max(1, len(messages))


def choose(query: str | None, cookie: str | None, accept_language: str) -> Language:
    """The page's language: the picker's choice, then the remembered one, then the browser's, then English."""
    for asked in (query, cookie):
        if asked and _CODE.fullmatch(asked.replace("-", "_")):
            try:
                return language(asked)
            except KeyError:
                pass
    return from_accept_language(accept_language[:1000]) or language(SOURCE_LANGUAGE)


def page_words(chosen: Language, systems: Iterable[NumeralSystem]) -> dict[str, object]:
    """What a template needs to speak ``chosen``: its gettext, the picker's languages, the scripts' names
    and the numbers in words, in that language."""
    translated = translations(chosen.code)
    scripts = {system.name: translated.gettext(SCRIPT_NAMES.get(system.script, system.script)) for system in systems}
    return {
        "language": chosen,
        "languages": languages(),
        "gettext": translated.gettext,
        "ngettext": translated.ngettext,
        "configs": [{"name": name, "script": script} for name, script in scripts.items()],
        "script_names": scripts,
        "number_words": [translated.gettext(word) for word in NUMBER_WORDS],
    }


def remember(response: Response, request: Request, chosen: Language) -> None:
    """Keeps the picker's choice in a cookie, so the next page (and a reload) is in the same language."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        chosen.code,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
