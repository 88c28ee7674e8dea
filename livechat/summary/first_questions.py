"""Questions worth asking first, derived from the tables and the analyst's definitions.

A newcomer facing a silent microphone does not know what to ask. When a table set is
loaded, :func:`first_questions` proposes three to five, in this order of preference:

1. a defined term (by a category when it has SQL), else a trusted query's question;
2. a measure by its top category ("Which region has the highest total revenue?");
3. a trend over a date column;
4. a join across two tables, when a likely key links them (``find_join_keys``);
5. an extreme value ("Which keeper has the highest storm night count?");

then plain fallbacks (counts per category, an average, the most common values, the
table's size, missing values) so there are always at least three.

Columns are judged on the first ``SAMPLE_ROWS`` rows with ``livechat.data.profile``'s
quick-chart rules (a measure is numeric and not an id; a category has 2-50 values). The
wording is English unless the column names make the language obvious (German, French or
Spanish words, at least two, and twice as many as of any other language). Names are
spoken forms (``storm_night`` -> "storm night"), escaped. Deterministic: same tables and
definitions, same questions. Pure; any thread.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from livechat.data.profile import chart_candidates
from livechat.summary.definitions import Definitions
from livechat.summary.escape import escape_text
from livechat.summary.join_keys import find_join_keys
from livechat.summary.vocabulary import split_identifier

__all__ = ["MAX_QUESTIONS", "MIN_QUESTIONS", "first_questions", "table_language"]

MIN_QUESTIONS = 3
MAX_QUESTIONS = 5
SAMPLE_ROWS = 50_000
NAME_CAP = 40

# Words of column names that give a language away (accents folded away too).
_LEXICON: dict[str, frozenset[str]] = {
    "en": frozenset("date amount price quantity customer sales revenue name country city product order "
                    "year month count cost category type value number store employee department supplier "
                    "invoice day weight hour total".split()),
    "de": frozenset("datum betrag preis menge kunde kunden umsatz gesamt land stadt produkt bestellung jahr "
                    "monat anzahl kosten kategorie art wert nummer filiale mitarbeiter abteilung artikel "
                    "verkauf lieferant rechnung zeit gewicht stunden tag ort bezeichnung".split()),
    "fr": frozenset("montant prix quantite client clients ventes vente chiffre affaires nom pays ville "
                    "produit commande annee mois cout categorie statut valeur magasin employe "
                    "departement fournisseur facture jour poids heure".split()),
    "es": frozenset("fecha importe monto precio cantidad cliente clientes ventas venta pais ciudad producto "
                    "pedido ano mes numero costo coste categoria estado valor tienda empleado "
                    "departamento proveedor factura dia peso hora".split()),
}
_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "term_by": "What is the {term} by {category}?",
        "term": "What is the {term} overall?",
        "top": "Which {category} has the highest total {measure}?",
        "trend": "How has the total {measure} changed over time ({date})?",
        "trend_count": "How has the number of rows changed over time ({date})?",
        "join_measure": "Joining {left} with {right}: what is the total {measure} per {category}?",
        "join_count": "Joining {left} with {right}: how many {left} rows does each {key} have?",
        "extreme_label": "Which {label} has the highest {measure}, and how high is it?",
        "extreme": "What is the highest {measure}, and where does it occur?",
        "count_by": "How many rows are there per {category}?",
        "mean": "What is the average {measure}?",
        "common": "What are the most common values of {column}?",
        "size": "How many rows does {table} have, and what does each row describe?",
        "overview": "What stands out in this data?",
        "columns": "Which columns does {table} have, and what do they hold?",
        "missing": "Which columns have missing values, and how many?",
    },
    "de": {
        "term_by": "Wie ist {term} nach {category} verteilt?",
        "term": "Wie hoch ist {term} insgesamt?",
        "top": "Bei welchem Wert von {category} ist die Summe von {measure} am höchsten?",
        "trend": "Wie hat sich die Summe von {measure} im Zeitverlauf ({date}) entwickelt?",
        "trend_count": "Wie hat sich die Anzahl der Zeilen im Zeitverlauf ({date}) entwickelt?",
        "join_measure": "{left} mit {right} verknüpft: wie hoch ist die Summe von {measure} je {category}?",
        "join_count": "{left} mit {right} verknüpft: wie viele Zeilen von {left} hat jeder Wert von {key}?",
        "extreme_label": "Welcher Wert von {label} hat das höchste {measure}, und wie hoch ist es?",
        "extreme": "Was ist der höchste Wert von {measure}, und wo tritt er auf?",
        "count_by": "Wie viele Zeilen gibt es je {category}?",
        "mean": "Was ist der Durchschnitt von {measure}?",
        "common": "Was sind die häufigsten Werte von {column}?",
        "size": "Wie viele Zeilen hat {table}, und was beschreibt eine Zeile?",
        "overview": "Was fällt in diesen Daten auf?",
        "columns": "Welche Spalten hat {table}, und was steht darin?",
        "missing": "Welche Spalten haben fehlende Werte, und wie viele?",
    },
    "fr": {
        "term_by": "Que vaut {term} par {category} ?",
        "term": "Que vaut {term} au total ?",
        "top": "Quel {category} a le plus grand total de {measure} ?",
        "trend": "Comment le total de {measure} a-t-il évolué dans le temps ({date}) ?",
        "trend_count": "Comment le nombre de lignes a-t-il évolué dans le temps ({date}) ?",
        "join_measure": "En reliant {left} à {right} : quel est le total de {measure} par {category} ?",
        "join_count": "En reliant {left} à {right} : combien de lignes de {left} pour chaque {key} ?",
        "extreme_label": "Quel {label} a la valeur de {measure} la plus élevée, et combien ?",
        "extreme": "Quelle est la valeur la plus élevée de {measure}, et où apparaît-elle ?",
        "count_by": "Combien de lignes y a-t-il par {category} ?",
        "mean": "Quelle est la moyenne de {measure} ?",
        "common": "Quelles sont les valeurs les plus fréquentes de {column} ?",
        "size": "Combien de lignes compte {table}, et que décrit chaque ligne ?",
        "overview": "Qu'est-ce qui ressort de ces données ?",
        "columns": "Quelles colonnes a {table}, et que contiennent-elles ?",
        "missing": "Quelles colonnes ont des valeurs manquantes, et combien ?",
    },
    "es": {
        "term_by": "¿Cuál es {term} por {category}?",
        "term": "¿Cuál es {term} en total?",
        "top": "¿Qué {category} tiene el mayor total de {measure}?",
        "trend": "¿Cómo ha cambiado el total de {measure} a lo largo del tiempo ({date})?",
        "trend_count": "¿Cómo ha cambiado el número de filas a lo largo del tiempo ({date})?",
        "join_measure": "Uniendo {left} con {right}: ¿cuál es el total de {measure} por {category}?",
        "join_count": "Uniendo {left} con {right}: ¿cuántas filas de {left} tiene cada {key}?",
        "extreme_label": "¿Qué {label} tiene el valor más alto de {measure}, y cuánto es?",
        "extreme": "¿Cuál es el valor más alto de {measure}, y dónde aparece?",
        "count_by": "¿Cuántas filas hay por {category}?",
        "mean": "¿Cuál es el promedio de {measure}?",
        "common": "¿Cuáles son los valores más frecuentes de {column}?",
        "size": "¿Cuántas filas tiene {table}, y qué describe cada fila?",
        "overview": "¿Qué destaca en estos datos?",
        "columns": "¿Qué columnas tiene {table}, y qué contienen?",
        "missing": "¿Qué columnas tienen valores vacíos, y cuántos?",
    },
}
_NOT_MEASURE = frozenset({"id", "key", "code", "ref", "no", "nr", "year", "jahr", "annee", "ano",
                          "zip", "postcode", "plz", "phone", "lat", "latitude", "lon", "lng", "longitude"})
_WORD = re.compile(r"[^\W\d_]+")


def _words(name: str) -> list[str]:
    """Lower-case words of a column name, accents folded away (``Quantité`` -> ``quantite``)."""
    folded = unicodedata.normalize("NFKD", split_identifier(name).lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(plain)


def table_language(columns: Sequence[str]) -> str:
    """``en``, ``de``, ``fr`` or ``es``: the language the column names obviously use, else ``en``."""
    hits = {lang: 0 for lang in _LEXICON}
    for name in columns:
        for word in _words(str(name)):
            for lang, lexicon in _LEXICON.items():
                if word in lexicon:
                    hits[lang] += 1
    best = max(hits, key=lambda lang: (hits[lang], lang == "en"))
    others = max(count for lang, count in hits.items() if lang != best)
    return best if best != "en" and hits[best] >= 2 and hits[best] >= 2 * others else "en"


def _spoken(name: object) -> str:
    return escape_text(split_identifier(str(name)) or str(name), cap=NAME_CAP)


@dataclass(frozen=True)
class _Shape:
    """The columns of one table that questions can be made of (spoken names)."""

    name: str
    measure: str | None
    category: str | None
    date: str | None
    label: str | None
    text: str | None
    has_nulls: bool


def _is_measure(name: str) -> bool:
    return not (set(_words(name)) & _NOT_MEASURE)


def _shape(sql_name: str, df: pd.DataFrame) -> _Shape:
    sample = df.head(SAMPLE_ROWS)
    candidates = chart_candidates(sample)
    measures = [c for c in candidates.numeric if _is_measure(c)]
    text_like = [str(sample.columns[i]) for i in range(sample.shape[1])
                 if pd.api.types.is_string_dtype(sample.dtypes.iloc[i])
                 or pd.api.types.is_object_dtype(sample.dtypes.iloc[i])
                 or isinstance(sample.dtypes.iloc[i], pd.CategoricalDtype)]
    categories = [c for c in candidates.categorical if c in text_like] or list(candidates.categorical)
    category = categories[0] if categories else None
    labels = [c for c in text_like if c != category and c not in candidates.categorical]
    return _Shape(
        name=sql_name,
        measure=measures[0] if measures else None,
        category=category,
        date=candidates.datetime[0] if candidates.datetime else None,
        label=labels[0] if labels else None,  # the category has its own question already
        text=text_like[0] if text_like else None,
        has_nulls=bool(sample.isna().to_numpy().any()) if sample.size else False,
    )


def first_questions(tables: Mapping[str, pd.DataFrame] | pd.DataFrame,
                    definitions: Definitions | None = None, *,
                    max_questions: int = MAX_QUESTIONS) -> tuple[str, ...]:
    """Three to ``max_questions`` questions for ``tables`` (SQL name -> frame, or one frame)."""
    frames = {"data": tables} if isinstance(tables, pd.DataFrame) else dict(tables)
    definitions = definitions or Definitions()
    columns = [str(c) for df in frames.values() for c in df.columns]
    say = _TEMPLATES[table_language(columns)]
    shapes = [_shape(name, df) for name, df in frames.items()]
    main = next((s for s in shapes if s.measure and s.category), None) or next(
        (s for s in shapes if s.measure), shapes[0] if shapes else None)
    found: list[str] = []

    def add(key: str, **names: str | None) -> None:
        if all(names.values()):
            question = say[key].format(**{k: _spoken(v) for k, v in names.items()})
            if question not in found:
                found.append(question)

    category = next((s.category for s in shapes if s.category), None)
    if definitions.terms:
        term = definitions.terms[0]
        if term.sql and category:
            add("term_by", term=term.name, category=category)
        else:
            add("term", term=term.name)
    elif definitions.runnable:
        found.append(escape_text(definitions.runnable[0].question, cap=120))
    if main is not None:
        add("top", category=main.category, measure=main.measure)
        dated = main if main.date else next((s for s in shapes if s.date), None)
        if dated is not None and dated.measure:
            add("trend", measure=dated.measure, date=dated.date)
        elif dated is not None:
            add("trend_count", date=dated.date)
    found += _join_question(frames, shapes, say)
    if main is not None and main.measure:
        if main.label:
            add("extreme_label", label=main.label, measure=main.measure)
        else:
            add("extreme", measure=main.measure)
    for shape in shapes:  # fallbacks, so there are always at least MIN_QUESTIONS
        add("count_by", category=shape.category)
        add("mean", measure=shape.measure)
        add("common", column=shape.text)
    if shapes:
        add("size", table=shapes[0].name)
        if any(s.has_nulls for s in shapes):
            add("missing", table=shapes[0].name)
    add("overview", table="data")
    if shapes:
        add("columns", table=shapes[0].name)
    return tuple(found[:max(MIN_QUESTIONS, max_questions)])


def _join_question(frames: dict[str, pd.DataFrame], shapes: list[_Shape], say: dict[str, str]) -> list[str]:
    """One question across the first likely join key, or none."""
    if len(frames) < 2:
        return []
    keys = find_join_keys([(name, df.head(SAMPLE_ROWS)) for name, df in frames.items()])
    if not keys:
        return []
    key = keys[0]
    by_name = {s.name: s for s in shapes}
    left, right = by_name[key.left_table], by_name[key.right_table]
    names = {"left": _spoken(left.name), "right": _spoken(right.name)}
    if left.measure and right.category:
        return [say["join_measure"].format(measure=_spoken(left.measure), category=_spoken(right.category), **names)]
    return [say["join_count"].format(key=_spoken(key.right_column), **names)]
