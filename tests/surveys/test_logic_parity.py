"""The page's logic (static/surveys/logic.js) and the server's (surveys/logic.py) agree: the same
cases (tests/surveys/logic_cases.json) through both, each against the flow written in the case.
If they disagreed, the page would hide a question whose answer the server keeps, or ask one
whose answer it drops."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from surveys.logic import Facts, evaluate, holds

ROOT = Path(__file__).resolve().parents[2]
CASES = json.loads((Path(__file__).parent / "logic_cases.json").read_text())
NODE = shutil.which("node") or "/usr/bin/node"

RUNNER = """
const logic = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cases.map(function (c) {
  const facts = Object.assign({score: null, band: "", language: "", touchpoint: "", segment: "",
                               hidden: {}, answers: {}}, c.facts);
  if (c.condition !== undefined) { return {holds: logic.holds(c.condition, facts)}; }
  const flow = logic.evaluate(c.plan, facts);
  return {pages: flow.pages, visible: Object.keys(flow.visible).sort()};
});
process.stdout.write(JSON.stringify(out));
"""


def _server(case) -> dict:
    facts = Facts(**case["facts"])
    if "condition" in case:
        return {"holds": holds(case["condition"], facts)}
    flow = evaluate(case["plan"], facts)
    return {"pages": flow.pages, "visible": sorted(flow.visible)}


def test_the_cases_cover_every_op_groups_and_jumps():
    assert len(CASES) >= 25
    text = json.dumps(CASES)
    from surveys.logic import OPS

    for op in OPS:
        assert f'"op": "{op}"' in text, op
    for group in ('"all"', '"any"', '"not"', '"jumps": [{', '"to": "end"'):
        assert group in text, group


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_server_gives_the_expected_flow(case):
    assert _server(case) == case["expected"]


@pytest.fixture(scope="module")
def page_results():
    if not Path(NODE).exists():
        pytest.fail("node is needed to run the page's logic (static/surveys/logic.js)")
    run = subprocess.run([NODE, "-e", RUNNER, str(ROOT / "static/surveys/logic.js")], input=json.dumps(CASES),
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["name"] for c in CASES])
def test_the_page_gives_the_same_flow(index, page_results):
    assert page_results[index] == CASES[index]["expected"]
