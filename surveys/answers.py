"""Reading one answer of each question kind, from a form (the survey page, an import row) or a
JSON object (the API), into the Answer fields it is stored as and the value survey logic reads.

Field names (docs/adr/0030), shared by the page, the API and imports:
- rating, CSI attribute: `<key>` = a whole number on the question's scale; `<key>__importance` 1–5.
- single choice: `<key>` = an option's value, or `_other` with `<key>__other` = the customer's text.
- multiple choice: `<key>` repeated (JSON: a list), `_other` as above.
- matrix: `<key>__<row>` = a number on the scale per row (JSON may send `<key>` as {row: number}).
- ranking: `<key>__<option>` = its rank 1..n (JSON may send `<key>` as the options in order).
- yes/no: `<key>` = "yes" | "no"; consent: `<key>` = "yes"; open text: `<key>`.
- statement: never an answer.

Whatever a client sends, the result is a value or a ValueError with a sentence for the customer:
never a 500, never a half-read answer. `services.clean_submission` is the one caller.
"""

import json
from dataclasses import dataclass

from django.utils.translation import gettext as _

from cxplatform.input_checks import first_text_problem, parse_int

from .models import Question

YES, NO = "yes", "no"
# Far more options than any question offers: a longer list is refused before it is looked at.
MAX_VALUES = 200
# A condition (show_if) as sent through the API: far beyond any a manager writes, and shallow
# enough for the evaluators' recursion.
MAX_CONDITION_CHARS, MAX_CONDITION_DEPTH = 20_000, 12


@dataclass
class Parsed:
    """One question's answer: `fields` for the Answer row, `fact` for survey logic (logic.Facts)."""

    fields: dict
    fact: object


class Reader:
    """Values of a form (QueryDict) or a JSON object, with the form's and JSON's shapes told apart."""

    def __init__(self, data):
        self.data = data
        self.is_form = hasattr(data, "getlist")

    def one(self, name: str):
        if self.is_form:
            return self.data.get(name)
        return self.data.get(name) if isinstance(self.data, dict) else None

    def many(self, name: str) -> list:
        if self.is_form:
            return self.data.getlist(name)
        value = self.one(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def names_under(self, prefix: str) -> list[str]:
        """The field names `<prefix><something>` the caller sent."""
        names = self.data.keys() if self.is_form or isinstance(self.data, dict) else []
        return [n for n in names if isinstance(n, str) and n.startswith(prefix) and len(n) > len(prefix)]


def blank(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def clean(question: Question, reader: Reader, *, clean_text, other_keys: frozenset = frozenset()) -> Parsed | None:
    """The answer to `question`, None when it was not answered; ValueError (its message for the
    customer) when what was sent cannot be its answer. `clean_text` checks typed text (services).
    `other_keys`: the survey's other question keys, so `<key>__x` of a question keyed `<key>__x`
    is not read as a row or option of this one."""
    kind = question.kind
    if kind in Question.SCALE_KINDS:
        return _scale(question, reader)
    if kind == Question.Kind.TEXT:
        text = clean_text(_scalar(reader.one(question.key)))
        return Parsed({"text": text}, text) if text else None
    if kind == Question.Kind.SINGLE_CHOICE:
        return _single(question, reader, clean_text)
    if kind == Question.Kind.MULTIPLE_CHOICE:
        return _multiple(question, reader, clean_text)
    if kind == Question.Kind.MATRIX:
        return _matrix(question, reader, other_keys)
    if kind == Question.Kind.RANKING:
        return _ranking(question, reader, other_keys)
    if kind == Question.Kind.YES_NO:
        value = _scalar(reader.one(question.key))
        if blank(value):
            return None
        if value not in (YES, NO):
            raise ValueError(_("Please answer yes or no."))
        return Parsed({"choices": [value]}, value)
    if kind == Question.Kind.CONSENT:
        value = _scalar(reader.one(question.key))
        if blank(value):
            return None
        if value != YES:
            raise ValueError(_("Tick the box to give your consent, or leave it empty."))
        return Parsed({"choices": [YES]}, True)
    return None  # a statement: nothing to answer, whatever was sent


def required_message(question: Question) -> str:
    if question.kind == Question.Kind.CONSENT:
        return _("Please give your consent to continue.")
    if question.kind == Question.Kind.MATRIX:
        return _("Please rate every row.")
    if question.kind == Question.Kind.RANKING:
        return _("Please put every option in order.")
    return _("Please answer this question.")


def incomplete(question: Question, parsed: Parsed) -> bool:
    """Whether an answer given leaves part of a required question open: a matrix row not rated."""
    if question.kind == Question.Kind.MATRIX:
        return any(row not in parsed.fields["grid"] for row in question.row_values)
    return False


def _scalar(value):
    """A single value: a list or an object where one value is expected is refused."""
    if isinstance(value, list | dict | tuple):
        raise ValueError(_("Please give a single value."))
    return value


def _scale(question: Question, reader: Reader) -> Parsed | None:
    key = question.key
    raw = _scalar(reader.one(key))
    if blank(raw):
        return None
    low, high = question.scale
    try:
        number = parse_int(raw, low=low, high=high)
    except ValueError:
        raise ValueError(_("Please choose a rating from %(low)d to %(high)d.") % {"low": low, "high": high}) from None
    importance = None
    if question.ask_importance:
        raw_importance = _scalar(reader.one(f"{key}__importance"))
        if not blank(raw_importance):
            try:
                importance = parse_int(raw_importance, low=1, high=5)
            except ValueError:
                raise ValueError(_("Please choose an importance from 1 to 5.")) from None
    return Parsed({"number": number, "importance": importance}, number)


def _other_text(question: Question, reader: Reader, clean_text) -> str:
    text = clean_text(_scalar(reader.one(f"{question.key}__other")))
    if not text:
        raise ValueError(_("Please say what “Other” is."))
    return text


def _options(question: Question) -> list[str]:
    return [*question.choice_values, *([Question.OTHER] if question.allow_other else [])]


def _single(question: Question, reader: Reader, clean_text) -> Parsed | None:
    raw = _scalar(reader.one(question.key))
    if blank(raw):
        return None
    if not isinstance(raw, str) or raw not in _options(question):
        raise ValueError(_("Please choose one of the options."))
    text = _other_text(question, reader, clean_text) if raw == Question.OTHER else ""
    return Parsed({"choices": [raw], "text": text}, raw)


def _multiple(question: Question, reader: Reader, clean_text) -> Parsed | None:
    values = reader.many(question.key)
    if len(values) > MAX_VALUES:
        raise ValueError(_("Please choose among the options."))
    values = [v for v in values if not blank(v)]
    if not values:
        return None
    allowed = _options(question)
    if any(not isinstance(v, str) or v not in allowed for v in values):
        raise ValueError(_("Please choose among the options."))
    if len(set(values)) != len(values):
        raise ValueError(_("Each option can be chosen only once."))
    chosen = [v for v in allowed if v in values]  # the options' order: the same answer reads the same
    text = _other_text(question, reader, clean_text) if Question.OTHER in chosen else ""
    return Parsed({"choices": chosen, "text": text}, chosen)


def _parts(question: Question, reader: Reader, other_keys: frozenset) -> dict | None:
    """A matrix's or ranking's {row or option: raw value}: one JSON object, or the form's
    `<key>__<part>` fields. None when nothing was sent."""
    key = question.key
    whole = reader.one(key) if not reader.is_form else None
    if whole is not None and not blank(whole):
        return whole
    prefix = f"{key}__"
    names = [n for n in reader.names_under(prefix)
             if not any(n == k or n.startswith(f"{k}__") for k in other_keys if k.startswith(prefix))]
    if len(names) > MAX_VALUES:
        raise ValueError(_("Please answer only the rows and options shown."))
    parts = {}
    for name in names:
        value = _scalar(reader.one(name))
        if not blank(value):
            parts[name[len(prefix):]] = value
    return parts or None


def _matrix(question: Question, reader: Reader, other_keys: frozenset) -> Parsed | None:
    parts = _parts(question, reader, other_keys)
    if parts is None:
        return None
    if not isinstance(parts, dict):
        raise ValueError(_("Please rate each row on its own."))
    rows = question.row_values
    if any(name not in rows for name in parts):
        raise ValueError(_("Please answer only the rows shown."))
    low, high = question.scale
    grid = {}
    for row in rows:
        if row not in parts or blank(parts[row]):
            continue
        try:
            grid[row] = parse_int(_scalar(parts[row]), low=low, high=high)
        except ValueError:
            raise ValueError(_("Please rate each row from %(low)d to %(high)d.") % {"low": low, "high": high}) from None
    if not grid:
        return None
    return Parsed({"grid": grid}, dict(grid))


def _ranking(question: Question, reader: Reader, other_keys: frozenset) -> Parsed | None:
    parts = _parts(question, reader, other_keys)
    if parts is None:
        return None
    options = question.choice_values
    if isinstance(parts, list):  # JSON: the options, first to last
        if len(parts) > MAX_VALUES or any(not isinstance(v, str) or v not in options for v in parts):
            raise ValueError(_("Please rank only the options shown."))
        if len(set(parts)) != len(parts):
            raise ValueError(_("Each option can have only one place."))
        order = list(parts)
    elif isinstance(parts, dict):
        if any(name not in options for name in parts):
            raise ValueError(_("Please rank only the options shown."))
        ranks = {}
        for name, raw in parts.items():
            try:
                ranks[name] = parse_int(_scalar(raw), low=1, high=len(options))
            except ValueError:
                raise ValueError(_("Please give each option a place from 1 to %(n)d.") % {"n": len(options)}) from None
        if len(set(ranks.values())) != len(ranks):
            raise ValueError(_("Each place can be given to only one option."))
        order = sorted(ranks, key=ranks.get)
    else:
        raise ValueError(_("Please put the options in order."))
    if len(order) != len(options):
        raise ValueError(_("Please put every option in order, not only some of them."))
    return Parsed({"choices": order}, list(order))


# --- Reading stored answers ---------------------------------------------------------------------

def fact_of(question: Question, answer) -> object:
    """A stored answer in logic terms (what `clean` gives as `fact`)."""
    kind = question.kind
    if kind in Question.SCALE_KINDS:
        return answer.number
    if kind == Question.Kind.TEXT:
        return answer.text
    if kind == Question.Kind.SINGLE_CHOICE or kind == Question.Kind.YES_NO:
        return answer.choices[0] if answer.choices else None
    if kind == Question.Kind.CONSENT:
        return bool(answer.choices)
    if kind == Question.Kind.MATRIX:
        return dict(answer.grid or {})
    return list(answer.choices or [])


def as_text(question: Question, answer, *, language: str = "en", labels: bool = True) -> str:
    """A stored answer as one line a person reads (the responses pages): "a > b > c" for a ranking,
    "a, b" for several options, "Yes"/"No", the other text after the option, labels in `language`."""
    kind = question.kind
    if kind in Question.SCALE_KINDS:
        if answer.number is None:
            return ""
        return str(answer.number) if answer.importance is None else _("%(score)d (importance %(importance)d)") % {
            "score": answer.number, "importance": answer.importance}
    if kind == Question.Kind.TEXT:
        return answer.text
    if kind == Question.Kind.YES_NO:
        return {YES: _("Yes"), NO: _("No")}.get((answer.choices or [""])[0], "")
    if kind == Question.Kind.CONSENT:
        return _("Given") if answer.choices else ""
    if kind == Question.Kind.MATRIX:
        names = _names(question.rows, language) if labels else {}
        return "; ".join(f"{names.get(row, row)}: {n}" for row, n in (answer.grid or {}).items())
    names = _names(question.choices, language) if labels else {}
    if answer.text:
        names[Question.OTHER] = (_("Other: %(text)s") % {"text": answer.text}) if labels else answer.text
    shown = [names.get(v, v) for v in answer.choices or []]
    return " > ".join(shown) if kind == Question.Kind.RANKING else ", ".join(shown)


def _names(options: list, language: str) -> dict:
    found = {}
    for option in options or []:
        label = option.get("label") or {}
        found[option["value"]] = label.get(language) or label.get("en") or next(
            (text for text in label.values() if text), option["value"])
    return found


# --- Checks of question data from outside (the API) ---------------------------------------------

def condition_shape_problem(condition) -> str | None:
    """Why a condition cannot even be stored (not an object, too large or deep, unstorable text);
    whether it makes sense in the survey is `logic.problems`' question. None when it can."""
    if condition in (None, {}):
        return None
    if not isinstance(condition, dict):
        return _("A condition is an object such as {\"field\": \"answer.key\", \"op\": \"equals\", \"value\": \"x\"}.")
    if len(json.dumps(condition)) > MAX_CONDITION_CHARS or _depth(condition) > MAX_CONDITION_DEPTH:
        return _("The condition is too large; split it into simpler rules.")
    return first_text_problem(condition)


def _depth(value) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_CONDITION_DEPTH:
            return deepest
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else []
        pending.extend((child, depth + 1) for child in children)
    return deepest
