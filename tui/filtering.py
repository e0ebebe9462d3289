"""The `/` filter: substrings, `column:value` and `!` negation, all terms must hold."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Term:
    """One filter term; `columns` empty means "any column"."""

    text: str
    columns: tuple[str, ...] = ()
    negate: bool = False

    def holds(self, cells: Mapping[str, str]) -> bool:
        pool = [cells[c] for c in self.columns] if self.columns else list(cells.values())
        found = any(self.text in value.lower() for value in pool)
        return found != self.negate


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def parse_filter(text: str, columns: Mapping[str, str]) -> list[Term]:
    """Terms of a filter string; `columns` maps column key -> label (either names a column, prefixes too)."""
    terms: list[Term] = []
    for word in _split(text):
        negate = word.startswith("!")
        word = word[1:] if negate else word
        name, sep, value = word.partition(":")
        matched = _columns_named(name, columns) if sep else ()
        if matched:
            terms.append(Term(value.lower(), matched, negate))
        elif word:
            terms.append(Term(word.lower(), (), negate))
    return terms


def _columns_named(name: str, columns: Mapping[str, str]) -> tuple[str, ...]:
    name = name.lower()
    if not name:
        return ()
    exact = [key for key, label in columns.items() if name in (key.lower(), label.lower())]
    if exact:
        return tuple(exact)
    return tuple(key for key, label in columns.items() if key.lower().startswith(name) or label.lower().startswith(name))


def row_matches(terms: list[Term], cells: Mapping[str, str]) -> bool:
    return all(term.holds(cells) for term in terms)
