"""The registry: the built-in systems and the spec-file format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.errors import InputError
from generator.layout import BUILTIN_DIR, SPEC_FILE, format_code_point
from generator.registry import builtin_systems, default_configs, load_spec, paper_configs, resolve
from tests.conftest import write_spec

# The numeral systems as the Afro-MNIST issue fixes them: first and last code point per config.
EXPECTED = {
    "geez": (0x1369, 0x1372, [str(n) for n in range(1, 11)]),
    "vai": (0xA620, 0xA629, [str(n) for n in range(10)]),
    "osmanya": (0x104A0, 0x104A9, [str(n) for n in range(10)]),
    "nko": (0x07C0, 0x07C9, [str(n) for n in range(10)]),
    "adlam": (0x1E950, 0x1E959, [str(n) for n in range(10)]),
    "medefaidrin": (0x16E80, 0x16E89, [str(n) for n in range(10)]),
}
# Every free design there is; Medefaidrin has only two (Noto Sans Medefaidrin and Unifont Upper).
MIN_DESIGNS = {"medefaidrin": 2}


def test_builtin_systems_are_the_default_configs():
    systems = builtin_systems()
    assert sorted(systems) == sorted(default_configs()) == sorted(EXPECTED)
    for name, (first, last, class_names) in EXPECTED.items():
        system = systems[name]
        assert system.code_points == tuple(range(first, last + 1))
        assert list(system.class_names) == class_names
        assert system.iso15924
        assert system.languages
        assert system.is_builtin
        assert system.spec_path == BUILTIN_DIR / name / SPEC_FILE, "a built-in config's folder is its name"
        assert len(system.fonts) >= MIN_DESIGNS.get(name, 3), "every distinct design of the script, not one font"
        assert all(font.is_file() for font in system.fonts)


def test_resolve_defaults_to_the_default_configs():
    assert [system.name for system in resolve(None)] == list(default_configs())


def test_resolve_with_spec_only_builds_the_spec(tmp_path: Path, vai):
    spec = write_spec(tmp_path, vai, "my_vai")
    assert [system.name for system in resolve(None, [spec])] == ["my_vai"]
    assert [system.name for system in resolve(["vai", "my_vai"], [spec])] == ["vai", "my_vai"]


def test_unknown_config_is_named():
    with pytest.raises(InputError, match="unknown config 'klingon'"):
        resolve(["klingon"])


def test_spec_fonts_resolve_relative_to_the_spec(tmp_path: Path, vai):
    system = load_spec(write_spec(tmp_path / "specs", vai, "rel"))
    assert all(font.parent == tmp_path / "specs" for font in system.fonts)
    assert not system.is_builtin


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Bad-Name"}, "name = 'Bad-Name'"),
        ({"code_points": ["U+A620", "A621"]}, "code point 'A621'"),
        ({"code_points": ["U+A620", "U+A620"]}, "repeats a code point"),
        ({"class_names": ["0", "1"]}, "class_names = "),
        ({"fonts": []}, "fonts = []"),
        ({"iso15924": "vai"}, "iso15924 = 'vai'"),
        ({"languages": ["english"]}, "languages = ['english']"),
        ({"colour": "red"}, "unknown key(s) colour"),
    ],
)
def test_malformed_spec_is_refused_naming_the_value(tmp_path: Path, vai, overrides, message):
    spec = write_spec(tmp_path, vai, "bad", **overrides)
    with pytest.raises(InputError) as info:
        load_spec(spec)
    assert message in str(info.value)
    assert str(spec) in str(info.value)


def test_default_configs_and_the_papers_figures_are_read_from_the_specs():
    systems = builtin_systems()
    assert default_configs() == ("geez", "vai", "osmanya", "nko", "adlam", "medefaidrin")
    assert paper_configs() == ("geez", "vai", "osmanya", "nko")
    orders = [system.default_order for system in systems.values()]
    assert len(set(orders)) == len(orders), "each default config has a place of its own"
    assert {name: system.paper_accuracy for name, system in systems.items()} == {
        "geez": 0.9992,
        "vai": 1.0,
        "osmanya": 0.9999,
        "nko": 1.0,
        "adlam": None,
        "medefaidrin": None,
    }
    assert {name: system.paper_real_accuracy for name, system in systems.items() if system.paper_real_accuracy} == {
        "geez": 0.3030
    }


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("default_order = 0", "default_order = 0 must be a positive integer"),
        ('default_order = "1"', "default_order = '1' must be a positive integer"),
        ("[paper]\ntest_accuracy = 1.5", "paper.test_accuracy = 1.5 must be an accuracy"),
        ("[paper]\nreal_accuracy = true", "paper.real_accuracy = True must be an accuracy"),
        ("[paper]\ntable = 1", "paper = {'table': 1} must be a table of test_accuracy and real_accuracy"),
        ('paper = "99 %"', "paper = '99 %' must be a table"),
    ],
)
def test_bad_default_order_or_paper_figures_are_refused(tmp_path: Path, vai, toml, message):
    spec = write_spec(tmp_path, vai, "bad")
    spec.write_text(spec.read_text() + toml + "\n")
    with pytest.raises(InputError, match=re.escape(message)):
        load_spec(spec)


def test_spec_missing_keys_and_bad_toml(tmp_path: Path):
    spec = tmp_path / "s.toml"
    spec.write_text('name = "x"\n')
    with pytest.raises(InputError, match="lacks required key"):
        load_spec(spec)
    spec.write_text("name = = 1\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_spec(spec)
    with pytest.raises(InputError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ('["ten"]', "[]", "must list class names"),
        ('["0"]', '["0"]', "every font excludes class 0"),
    ],
)
def test_bad_exclude_classes_are_refused(tmp_path, first, second, message):
    vai = builtin_systems()["vai"]
    points = ", ".join(f'"{format_code_point(cp)}"' for cp in vai.code_points)
    names = ", ".join(f'"{name}"' for name in vai.class_names)
    fonts = "".join(
        f'\n[[fonts]]\npath = "{font}"\nexclude_classes = {excluded}\n'
        for font, excluded in zip(vai.fonts[:2], (first, second), strict=True)
    )
    spec = tmp_path / "vai.toml"
    spec.write_text(f'name = "vai2"\nscript = "Vai"\ncode_points = [{points}]\nclass_names = [{names}]\n{fonts}')
    with pytest.raises(InputError, match=message):
        load_spec(spec)


def test_a_spec_without_exclusions_draws_every_glyph():
    vai = builtin_systems()["vai"]
    assert vai.excluded == ()
    assert all(vai.draws(font, label) for font in range(len(vai.fonts)) for label in range(vai.num_classes))


def test_fonttools_warnings_on_the_bundled_fonts_timestamps_are_dropped(caplog):
    # fontTools 4.69 and later warn so on reading the bundled Unifont; every error line would become three.
    import logging

    import generator.registry  # noqa: F401  # the registry installs the filter before any font is read

    head = logging.getLogger("fontTools.ttLib.tables._h_e_a_d")
    with caplog.at_level(logging.WARNING, logger=head.name):
        head.warning("'%s' timestamp seems very low; regarding as unix timestamp", "created")
        head.warning("another warning of the head table")
    assert [record.getMessage() for record in caplog.records] == ["another warning of the head table"]
