"""Property: the console's own inputs answer any text with problems named at a field, never an exception.

The search form, the tag editor, the metadata editor, the start-import form, the config file, the
command line and the `ahi` flags are fed hostile text (unicode, control characters, huge values, wrong
TOML types); each must return its problems (or its parsed result), or refuse through its own error type.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hostile_inputs import HOSTILE_STRINGS

from ahi.services.import_form import FIELDS as IMPORT_FIELDS
from ahi.services.import_form import StartImportForm, validate
from ahi.services.metadata_patch import AttributeRef, typed_value, update_problems
from ahi.services.search_criteria import SearchForm, check_search, field_names
from ahi.services.tags import tag_problems
from ahi.tui.commands import Command
from ahi.tui.config import ConfigError, parse_config
from ahi.tui.settings import build_parser

#: Bounded and seeded by default; AHI_HOSTILE_EXAMPLES / AHI_HOSTILE_RANDOM as in test_bad_input_properties.py.
EXAMPLES = settings(max_examples=int(os.environ.get("AHI_HOSTILE_EXAMPLES", "150")), deadline=None,
                    derandomize=not os.environ.get("AHI_HOSTILE_RANDOM"), database=None,
                    suppress_health_check=[HealthCheck.too_slow])
typed = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=40), st.sampled_from(["x" * 5000, "é" * 300]))
DOCUMENT = {
    "SchemaVersion": "1.1",
    "Patient": {"DICOM": {"PatientName": "Phantom^Shepp", "PatientID": "AHI-DEMO-001"}},
    "Study": {"DICOM": {"StudyDescription": "x", "StudyDate": "20240315"}, "Series": {}},
}


@EXAMPLES
@given(st.fixed_dictionaries({name.name: typed for name in fields(SearchForm) if name.type in ("str", str)}), st.booleans())
def test_the_search_form_names_a_field_for_every_problem(values: dict[str, str], primary: bool) -> None:
    checked = check_search(SearchForm(**values, primary_only=primary))
    known = set(field_names())
    assert all(problem.field in known and problem.rule for problem in checked.problems)
    assert checked.ok == (not checked.problems)


@EXAMPLES
@given(st.dictionaries(typed, typed, max_size=4))
def test_the_tag_editor_names_the_key_for_every_problem(tags: dict[str, str]) -> None:
    for problem in tag_problems(tags):
        assert problem.field and problem.rule


@EXAMPLES
@given(st.sampled_from(["Patient", "Study", "Series", "Instance", "", "Nope"]), typed, typed)
def test_the_metadata_editor_judges_any_keyword_and_value(level: str, keyword: str, text: str) -> None:
    ref = AttributeRef(level, keyword, series_uid="1.2.3" if level == "Series" else None)
    for problem in update_problems(DOCUMENT, ref, typed_value(keyword, text)):
        assert problem.field and problem.rule


@EXAMPLES
@given(st.fixed_dictionaries({name: typed for name in IMPORT_FIELDS}))
def test_the_import_form_names_the_field_for_every_problem(values: dict[str, str]) -> None:
    for error in validate(StartImportForm(**values)):
        assert error.field in IMPORT_FIELDS and error.message


toml_value = st.one_of(
    st.sampled_from(['"text"', "3", "-1", "1e400", "true", "[]", '["a", 1]', "{a = 1}", '"\\u0000"', "nan", "2024-01-01"]),
    typed.map(lambda text: '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'),
)
toml_key = st.sampled_from(["refresh", "theme", "read_only", "region", "endpoint_url", "production", "x", '"a.b"', "saved"])
toml_table = st.sampled_from(["", "[profiles.prod]", "[profiles.\"we ird\"]", "[keymap]", "[saved_searches.mine]", "[[x]]", "[profiles]"])
toml_text = st.one_of(
    st.lists(st.tuples(toml_table, toml_key, toml_value), max_size=5).map(
        lambda lines: "\n".join(f"{table}\n{key} = {value}" for table, key, value in lines)
    ),
    typed,
)


@EXAMPLES
@given(toml_text)
def test_the_config_file_is_parsed_or_refused_with_line_and_key(text: str) -> None:
    try:
        parse_config(text, Path("config.toml"))
    except ConfigError as error:
        assert str(error)


@EXAMPLES
@given(typed)
def test_the_command_line_parses_anything(text: str) -> None:
    command = Command.parse(text)
    assert command.verb == command.verb.lower()


@EXAMPLES
@given(st.lists(st.one_of(st.sampled_from(["--refresh", "--region", "--profile", "--endpoint-url", "--read-only",
                                           "--local", "--state-dir", "--bogus", "-x"]), typed), max_size=5))
def test_the_ahi_flags_are_parsed_or_refused_by_argparse(argv: list[str]) -> None:
    with contextlib.redirect_stderr(io.StringIO()) as errors:
        try:
            build_parser().parse_args(argv)
        except SystemExit as exit_:
            assert exit_.code == 2 and "error:" in errors.getvalue()


def test_the_strategies_reach_the_problems() -> None:
    """The properties above are not vacuous: the same kinds of input do produce problems."""
    assert check_search(SearchForm(study_date_from="20240230")).problems
    assert tag_problems({"aws:x": "v"})
    with pytest.raises(ConfigError):
        parse_config("refresh = \"often\"", Path("config.toml"))
    assert validate(StartImportForm("x", "not-s3", "s3://b/o/", "arn"))
