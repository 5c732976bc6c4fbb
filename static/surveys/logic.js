// Survey logic in the page: a port of surveys/logic.py's `holds` and `evaluate` over the same plan,
// so the page shows what the server will keep. Checked against the same cases as the server
// (tests/surveys/logic_cases.json, tests/surveys/test_logic_parity.py). Equality and numbers
// follow Python's rules ("9" equals 9, float("1_000")), because the server's answer is the one that counts.
(function (root) {
  "use strict";
  var CONTEXT = ["score", "band", "language", "touchpoint", "segment"];
  var NUMERIC = {lt: 1, lte: 1, gt: 1, gte: 1};
  var has = function (obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); };

  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

  function blank(v) {
    return v === null || v === undefined || v === "" || v === false ||
      (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
  }

  // Python's str(): what the server compares values by.
  function pyStr(v) {
    if (v === null || v === undefined) { return "None"; }
    if (v === true) { return "True"; }
    if (v === false) { return "False"; }
    if (Array.isArray(v)) { return "[" + v.map(pyRepr).join(", ") + "]"; }
    if (isObject(v)) {
      return "{" + Object.keys(v).map(function (k) { return pyRepr(k) + ": " + pyRepr(v[k]); }).join(", ") + "}";
    }
    return String(v);
  }

  function pyRepr(v) { return typeof v === "string" ? "'" + v.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'" : pyStr(v); }

  function same(a, b) {
    if (typeof a === "boolean" || typeof b === "boolean") { return a === b; }
    return pyStr(a) === pyStr(b);
  }

  var FLOAT = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
  var SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

  function number(v) {
    if (typeof v === "boolean") { return null; }
    if (typeof v === "number") { return v; }
    var s = pyStr(v).trim();
    var special = SPECIAL.exec(s);
    if (special) {
      if (special[2].toLowerCase() === "nan") { return NaN; }
      return special[1] === "-" ? -Infinity : Infinity;
    }
    return FLOAT.test(s) ? Number(s.replace(/_/g, "")) : null;
  }

  function valueOf(facts, name) {
    name = name === undefined || name === null ? "" : String(name);
    if (name.indexOf("answer.") === 0) { return lookup(facts.answers, name.slice(7)); }
    if (name.indexOf("hidden.") === 0) { return lookup(facts.hidden, name.slice(7)); }
    if (CONTEXT.indexOf(name) >= 0) {
      var v = facts[name];
      return v === "" || v === null || v === undefined ? null : v;
    }
    return null;
  }

  function lookup(map, key) { return map && has(map, key) ? map[key] : null; }

  function holds(condition, facts) {
    if (blank(condition)) { return true; }
    var i;
    if (has(condition, "all")) {  // a malformed group (refused when saved) never holds, never throws
      if (!Array.isArray(condition.all)) { return false; }
      for (i = 0; i < condition.all.length; i++) { if (!holds(condition.all[i], facts)) { return false; } }
      return true;
    }
    if (has(condition, "any")) {
      if (!Array.isArray(condition.any)) { return false; }
      for (i = 0; i < condition.any.length; i++) { if (holds(condition.any[i], facts)) { return true; } }
      return false;
    }
    if (has(condition, "not")) { return !holds(condition.not, facts); }
    var op = condition.op, expected = has(condition, "value") ? condition.value : null;
    var actual = valueOf(facts, has(condition, "field") ? condition.field : "");
    if (op === "answered") { return !blank(actual); }
    if (op === "not_answered") { return blank(actual); }
    if (op === "not_equals" || op === "not_in") {
      var positive = {};
      Object.keys(condition).forEach(function (k) { positive[k] = condition[k]; });
      positive.op = op.slice(4);
      return !holds(positive, facts);
    }
    if (blank(actual)) { return false; }
    var values = Array.isArray(actual) ? actual : [actual];
    if (op === "equals") {
      return values.some(function (a) { return same(a, expected); });
    }
    if (op === "in") {
      var options = Array.isArray(expected) ? expected : [expected];
      return values.some(function (v) { return options.some(function (o) { return same(v, o); }); });
    }
    if (op === "includes") {
      return values.some(function (v) { return same(v, expected); });
    }
    if (has(NUMERIC, op)) {
      var a = number(actual), b = number(expected);
      if (a === null || b === null) { return false; }
      return op === "lt" ? a < b : op === "lte" ? a <= b : op === "gt" ? a > b : a >= b;
    }
    return false;
  }

  function nextPage(page, facts, pages) {
    for (var i = 0; i < page.jumps.length; i++) {
      var jump = page.jumps[i];
      if (holds(jump.when, facts)) {
        if (jump.to === "end") { return null; }
        return jump.to === undefined ? null : jump.to;
      }
    }
    var later = pages.map(function (p) { return p.number; }).filter(function (n) { return n > page.number; });
    return later.length ? Math.min.apply(null, later) : null;
  }

  // The pages passed through and the questions shown: {pages: [1, 3], visible: {key: true}}.
  // A question not shown has no answer: later conditions do not see it.
  function evaluate(plan, facts) {
    var pages = plan.pages || [], showIf = plan.show_if || {};
    var byNumber = new Map();
    pages.forEach(function (p) { byNumber.set(p.number, p); });
    var answers = {};
    Object.keys(facts.answers || {}).forEach(function (k) { answers[k] = facts.answers[k]; });
    var seen = {};
    Object.keys(facts).forEach(function (k) { seen[k] = facts[k]; });
    seen.answers = answers;
    var visible = {}, path = [];
    var number = pages.length ? pages[0].number : null;
    while (number !== null && byNumber.has(number)) {
      var page = byNumber.get(number);
      path.push(number);
      page.questions.forEach(function (key) {
        if (holds(has(showIf, key) ? showIf[key] : null, seen)) { visible[key] = true; } else { delete answers[key]; }
      });
      number = nextPage(page, seen, pages);
      // The questions of pages jumped over are not answered either: later pages do not see them.
      pages.forEach(function (skipped) {
        if (page.number < skipped.number && (number === null || skipped.number < number)) {
          skipped.questions.forEach(function (key) { delete answers[key]; });
        }
      });
    }
    return {pages: path, visible: visible};
  }

  var api = {holds: holds, evaluate: evaluate};
  if (typeof module !== "undefined" && module.exports) { module.exports = api; } else { root.SurveyLogic = api; }
})(this);
