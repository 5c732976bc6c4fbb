"""Survey logic: which questions a respondent is shown, and which pages they pass through.

One format, one evaluator on each side: this module on the server (what is recorded: an answer to
a question the respondent was not shown is dropped) and `static/surveys/logic.js` in the page
(what is shown, live, without a reload). Both read the same *plan* (`plan_of`) and are checked
against the same cases (tests/surveys/logic_cases.json). docs/adr/0030.

A condition is a leaf or a group:
    {"field": "answer.scooter", "op": "equals", "value": "s1"}
    {"all": [cond, …]}  {"any": [cond, …]}  {"not": cond}
Fields: "score", "band", "language", "touchpoint" (its id), "segment" (the customer's segment),
"hidden.<name>" (a hidden field of the link), "answer.<question key>".
An empty condition ({}) always holds.

Pages: the score (and its follow-up) opens page 1; each question names its page. After a page,
the first of its jumps whose condition holds decides where to go ("to": a later page, or "end");
without one, the next page. Jumps only go forward and conditions only look back, so a survey can
never loop, and one pass computes the path.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

OPS = ("equals", "not_equals", "in", "not_in", "lt", "lte", "gt", "gte", "answered", "not_answered", "includes")
CONTEXT_FIELDS = ("score", "band", "language", "touchpoint", "segment")
NUMERIC_OPS = ("lt", "lte", "gt", "gte")
END = "end"


@dataclass
class Facts:
    """What conditions may look at. `answers`: question key → its value in logic terms (a number, a
    choice value, a list of choice values, "yes"/"no", True for consent, text, {row: number})."""

    score: int | None = None
    band: str = ""
    language: str = ""
    touchpoint: str = ""
    segment: str = ""
    hidden: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)

    def value(self, name: str):
        if name.startswith("answer."):
            return self.answers.get(name[len("answer."):])
        if name.startswith("hidden."):
            return self.hidden.get(name[len("hidden."):])
        if name in CONTEXT_FIELDS:
            value = getattr(self, name)
            return None if value in ("", None) else value
        return None


@dataclass
class Flow:
    """The result of evaluating a plan: the pages passed through and the questions shown."""

    pages: list[int]
    visible: set[str]


def _blank(value) -> bool:
    return value is None or value == "" or value == [] or value == {} or value is False


def _same(a, b) -> bool:
    """Equality across the page's strings and the server's numbers: "9" equals 9."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return _text(a) == _text(b)


def _text(value) -> str:
    """A value as the page's script writes it: 9.0 is "9" in JavaScript, so here too."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if not str(value).isascii():
        return None  # float() reads "１２" and "١٢"; the page's script does not, so neither do we
    try:
        return float(str(value))
    except ValueError:
        return None


def holds(condition: dict | None, facts: Facts) -> bool:
    if not condition:
        return True
    if not isinstance(condition, dict):
        return False
    if "all" in condition:  # a malformed group (refused when saved) never holds, never raises
        return isinstance(condition["all"], list) and all(holds(c, facts) for c in condition["all"])
    if "any" in condition:
        return isinstance(condition["any"], list) and any(holds(c, facts) for c in condition["any"])
    if "not" in condition:
        return not holds(condition["not"], facts)
    op, expected = condition.get("op"), condition.get("value")
    actual = facts.value(condition.get("field", ""))
    if op == "answered":
        return not _blank(actual)
    if op == "not_answered":
        return _blank(actual)
    if op in ("not_equals", "not_in"):
        return not holds({**condition, "op": op[4:]}, facts)
    if _blank(actual):
        return False
    if op == "equals":
        return _same(actual, expected) if not isinstance(actual, list) else any(_same(a, expected) for a in actual)
    if op == "in":
        options = expected if isinstance(expected, list) else [expected]
        values = actual if isinstance(actual, list) else [actual]
        return any(_same(v, o) for v in values for o in options)
    if op == "includes":
        values = actual if isinstance(actual, list) else [actual]
        return any(_same(v, expected) for v in values)
    if op in NUMERIC_OPS:
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            return False
        return {"lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[op]
    return False


# --- The plan ------------------------------------------------------------------------------

def plan_of(survey, questions=None) -> dict:
    """The survey's logic as plain data, for this module and the page's script alike:
    {"pages": [{"number": 1, "questions": [key, …], "jumps": [...]}, …], "show_if": {key: cond}}."""
    questions = list(survey.questions.all()) if questions is None else questions
    count = max([len(survey.pages or []), 1, *[q.page for q in questions]])
    pages = [{"number": n, "questions": [], "jumps": []} for n in range(1, count + 1)]
    for index, page in enumerate(survey.pages or []):
        pages[index]["jumps"] = list((page or {}).get("jumps") or [])
    show_if = {}
    for q in sorted(questions, key=lambda q: (q.page, q.position, q.pk or 0)):
        pages[q.page - 1]["questions"].append(q.key)
        if q.show_if:
            show_if[q.key] = q.show_if
    return {"pages": pages, "show_if": show_if}


def evaluate(plan: dict, facts: Facts) -> Flow:
    """The pages a respondent with these facts passes through, and the questions they are shown.
    A question not shown has no answer: its value is removed from the facts before later
    conditions read it."""
    pages = plan["pages"]
    by_number = {page["number"]: page for page in pages}
    answers = dict(facts.answers)
    facts = Facts(**{**facts.__dict__, "answers": answers})
    visible: set[str] = set()
    path: list[int] = []
    number = pages[0]["number"] if pages else None
    while number is not None and number in by_number:
        page = by_number[number]
        path.append(number)
        for key in page["questions"]:
            if holds(plan["show_if"].get(key), facts):
                visible.add(key)
            else:
                answers.pop(key, None)
        number = _next_page(page, facts, pages)
        # The questions of pages jumped over are not answered either, and a later page's
        # conditions must not see what was typed there before the jump was taken.
        for skipped in pages:
            if page["number"] < skipped["number"] and (number is None or skipped["number"] < number):
                for key in skipped["questions"]:
                    answers.pop(key, None)
    return Flow(path, visible)


def _next_page(page: dict, facts: Facts, pages: list[dict]):
    for jump in page["jumps"]:
        if holds(jump.get("when"), facts):
            return None if jump.get("to") == END else jump.get("to")
    later = [p["number"] for p in pages if p["number"] > page["number"]]
    return min(later) if later else None


# --- Validation when saved ------------------------------------------------------------------

def problems(survey, questions=None) -> list[str]:
    """Why the survey's logic cannot be saved or published, in the reader's language: a condition
    on a question that is not there (deleted) or not asked before it, an option that is gone, a
    jump backwards (a loop) or past the last page. Empty when the logic is sound."""
    questions = list(survey.questions.all()) if questions is None else questions
    plan = plan_of(survey, questions)
    order = {key: i for i, key in enumerate(k for page in plan["pages"] for k in page["questions"])}
    by_key = {q.key: q for q in questions}
    found: list[str] = []

    for q in questions:
        for leaf in _leaves(q.show_if):
            found += _leaf_problems(leaf, by_key, order, before=order[q.key], where=q.key, survey=survey)
    last = len(plan["pages"])
    for page in plan["pages"]:
        where = _("page %(number)d") % {"number": page["number"]}
        for jump in page["jumps"]:
            to = jump.get("to")
            if to != END and (not isinstance(to, int) or isinstance(to, bool) or to > last):
                found.append(_("%(where)s: jumps to a page that does not exist.") % {"where": where})
            elif to != END and to <= page["number"]:
                found.append(_("%(where)s: jumps back to page %(to)d; jumps may only go forward, "
                               "so a respondent can never go round in a loop.") % {"where": where, "to": to})
            # A jump's condition may look at any question of its own page or earlier ones.
            after = max([order[k] for p in plan["pages"] if p["number"] <= page["number"]
                         for k in p["questions"]] or [-1]) + 1
            for leaf in _leaves(jump.get("when")):
                found += _leaf_problems(leaf, by_key, order, before=after, where=where, survey=survey)
    return found


def _leaves(condition):
    if not condition:
        return
    if not isinstance(condition, dict):
        yield {"field": None}
        return
    for group in ("all", "any"):
        if group in condition:
            parts = condition[group]
            if not isinstance(parts, list) or not all(isinstance(part, dict) for part in parts):
                yield {"field": None}  # {"all": null}, {"any": 5}: not a rule, refused as incomplete
                return
            for part in parts:
                yield from _leaves(part)
            return
    if "not" in condition:
        if not isinstance(condition["not"], dict) or not condition["not"]:
            yield {"field": None}
            return
        yield from _leaves(condition["not"])
        return
    yield condition


def _leaf_problems(leaf: dict, by_key: dict, order: dict, *, before: int, where: str, survey) -> list[str]:
    name, op = leaf.get("field"), leaf.get("op")
    if not isinstance(name, str) or op not in OPS:
        return [_("%(where)s: a rule is incomplete.") % {"where": where}]
    if name in ("score", "band") and survey.survey_type == "csi":
        # A CSI survey's score is the mean of all its attributes, known only at the end: a rule on
        # it could not look back, and the page could not show what the server will keep.
        return [_("%(where)s: a CSI survey has no score until every attribute is rated; base the rule on "
                  "an attribute's answer instead.") % {"where": where}]
    if name.startswith("hidden.") and len(name) > len("hidden."):
        return []
    if name in CONTEXT_FIELDS:
        return []
    if not name.startswith("answer."):
        return [_("%(where)s: a rule looks at something the survey does not know.") % {"where": where}]
    key = name[len("answer."):]
    target = by_key.get(key)
    if target is None:
        return [_("%(where)s: a rule refers to the question “%(key)s”, which is no longer in the survey.")
                % {"where": where, "key": key}]
    if not target.is_answerable:
        return [_("%(where)s: a rule refers to “%(key)s”, a statement nobody answers.") % {"where": where, "key": key}]
    if order[key] >= before:
        return [_("%(where)s: a rule refers to “%(key)s”, which is asked later; a rule may only look at "
                  "earlier answers.") % {"where": where, "key": key}]
    values = leaf.get("value") if isinstance(leaf.get("value"), list) else [leaf.get("value")]
    if target.choices and op in ("equals", "not_equals", "in", "not_in", "includes"):
        allowed = {*target.choice_values, *([target.OTHER] if target.allow_other else [])}
        if any(str(v) not in allowed for v in values):
            return [_("%(where)s: a rule refers to an option of “%(key)s” that is no longer there.")
                    % {"where": where, "key": key}]
    return []
