// The public survey page (also inside customers' iframes and the editor's preview). Without this
// script every page of the survey shows at once and the server drops what the logic hides; with it:
// - one page at a time, Next/Back without a reload, a progress line, focus on the new page;
// - the survey's logic live (static/surveys/logic.js): a hidden question is hidden AND its inputs
//   disabled, so its answer is never posted;
// - earlier answers piped into later questions' texts (span[data-pipe]) as they change;
// - the follow-up question follows the score, and answers are kept as the respondent goes
//   (a closed tab still leaves a started response), an e-mail's one-click score at once.
// A static file, like all our scripts: the page's policy allows no other.
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form) { return; }
  // After the first save that took, an e-mail's score link page goes to its visit's address, so a
  // reload shows the answer as kept (docs/adr/0004); a frame that refuses it stays where it is.
  function kept(reply) {
    if (!reply.ok || !form.dataset.keptAddress) { return; }
    try {
      window.history.replaceState(window.history.state, "", new URL(form.dataset.keptAddress, window.location.href).href);
    } catch (e) { /* a sandboxed frame: the score link's address stays (a reload there keeps its score again) */ }
    delete form.dataset.keptAddress;
  }

  // An e-mail's score link: opening it kept nothing (mail scanners open every link of a message);
  // the page keeps its score now, before the customer could close the tab, with what it saw of
  // the answer, so a change made meanwhile is never overwritten. A failure is tried once more.
  if (form.dataset.keepScore) {
    var keep = new FormData();
    ["token", "c", "lang"].forEach(function (name) { keep.append(name, form.elements[name].value); });
    keep.append("seen", form.dataset.keepSeen || "");
    var keepScore = function (again) {
      fetch(form.dataset.keepScore, {method: "POST", body: keep, keepalive: true}).then(function (reply) {
        if (again && (reply.status === 429 || reply.status >= 500)) { setTimeout(function () { keepScore(false); }, 1500); }
        kept(reply);
      }, function () { if (again) { setTimeout(function () { keepScore(false); }, 1500); } });
    };
    keepScore(true);
  }
  if (!window.SurveyLogic) { return; }
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : {}; }
  var followUps = data("follow-ups"), plan = data("logic-plan"), context = data("logic-facts");
  var label = document.getElementById("follow-up");
  var pages = Array.prototype.slice.call(form.querySelectorAll(".page"));
  var questions = Array.prototype.slice.call(form.querySelectorAll(".q[data-q]"));
  var back = document.getElementById("back"), next = document.getElementById("next");
  var send = document.getElementById("send"), progress = document.getElementById("progress");
  var current = pages.length ? Number(pages[0].dataset.page) : 1;
  var path = [current];
  form.noValidate = true;  // checked page by page below, in the order the respondent meets them

  function inputs(el) { return Array.prototype.slice.call(el.querySelectorAll("input, select, textarea")); }
  function pageOf(el) { var p = el.closest(".page"); return p ? Number(p.dataset.page) : current; }
  function pageEl(number) { return document.getElementById("page-" + number); }

  // A question's answer in logic terms (surveys/logic.py Facts): the server reads it the same way.
  function answerOf(q) {
    var key = q.dataset.q, kind = q.dataset.kind, fields = inputs(q), i, f;
    if (kind === "matrix" || kind === "ranking") {
      var parts = {}, order = [];
      fields.forEach(function (f) {
        if (f.disabled || !f.value || ((f.type === "radio") && !f.checked)) { return; }
        var part = f.name.slice(key.length + 2);
        if (kind === "matrix") { parts[part] = f.value; } else { order.push([Number(f.value), part]); }
      });
      if (kind === "matrix") { return parts; }
      order.sort(function (a, b) { return a[0] - b[0]; });
      return order.map(function (pair) { return pair[1]; });
    }
    if (kind === "multiple_choice") {
      return fields.filter(function (f) { return f.name === key && f.checked; }).map(function (f) { return f.value; });
    }
    if (kind === "consent") { return fields.length > 0 && fields[0].checked; }
    if (kind === "text") { return fields.length ? fields[0].value.trim() : ""; }
    for (i = 0; i < fields.length; i++) {
      f = fields[i];
      if (f.name === key && f.checked) { return f.value; }
    }
    return null;
  }

  // An answer as the respondent reads it, for the texts that pipe it in.
  function shownOf(q) {
    var key = q.dataset.q, kind = q.dataset.kind;
    if (kind === "text") { return answerOf(q); }
    var chosen = inputs(q).filter(function (f) { return f.name === key && f.checked; });
    return chosen.map(function (f) {
      if (f.value === "_other") {
        var other = q.querySelector("input.other");
        return other && other.value.trim() ? other.value.trim() : form.dataset.other;
      }
      return f.closest("label").textContent.trim();
    }).join(", ");
  }

  function facts() {
    var score = form.querySelector("input[name=score]:checked");
    var answers = {};
    questions.forEach(function (q) { if (q.dataset.kind !== "statement") { answers[q.dataset.q] = answerOf(q); } });
    return {
      score: score ? Number(score.value) : null, band: score ? (context.bands || {})[score.value] || "" : "",
      language: context.language || "", touchpoint: context.touchpoint || "", segment: context.segment || "",
      hidden: context.hidden || {}, answers: answers
    };
  }

  function show(q, visible) {
    q.hidden = !visible;
    inputs(q).forEach(function (f) { f.disabled = !visible; });
  }

  // Re-reads the logic: which questions show, and the pages the respondent will pass through.
  function refresh() {
    var flow = window.SurveyLogic.evaluate(plan, facts());
    path = flow.pages.length ? flow.pages : [current];
    questions.forEach(function (q) { show(q, !!flow.visible[q.dataset.q]); });
    var at = path.indexOf(current);
    pages.forEach(function (p) { p.hidden = Number(p.dataset.page) !== current; });
    back.hidden = at <= 0;
    next.hidden = at === path.length - 1;
    send.hidden = !next.hidden;
    progress.hidden = path.length < 2;
    if (!progress.hidden) {
      progress.textContent = form.dataset.progress.replace("{n}", at + 1).replace("{total}", path.length);
    }
  }

  function pipe(q) {
    var text = shownOf(q);
    document.querySelectorAll("span[data-pipe]").forEach(function (span) {
      if (span.dataset.pipe === q.dataset.q) { span.textContent = text || span.dataset.fallback || ""; }
    });
  }

  function firstField(el) {
    return inputs(el).filter(function (f) { return !f.disabled && f.type !== "hidden" && !f.closest("[hidden]"); })[0];
  }

  function go(number, focus) {
    current = number;
    refresh();
    var target = focus || firstField(pageEl(number)) || pageEl(number).querySelector("h2");
    if (target) {
      if (!/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(target.tagName)) { target.tabIndex = -1; }
      target.focus();
      target.scrollIntoView({block: "center"});
    }
  }

  // The first field that would be refused, on the given pages; the browser says why in its words.
  function invalidOn(numbers) {
    for (var i = 0; i < numbers.length; i++) {
      var bad = inputs(pageEl(numbers[i])).filter(function (f) { return !f.disabled && !f.checkValidity(); })[0];
      if (bad) { return bad; }
    }
    return null;
  }

  function refuse(field) {
    go(pageOf(field), field);
    field.reportValidity();
  }

  var timer;
  function save() {
    if (!form.dataset.saveUrl) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(form.dataset.saveUrl, {method: "POST", body: new FormData(form), keepalive: true}).then(kept, function () {});
    }, 300);
  }

  function changed(event) {
    var target = event.target;
    if (target.name === "score" && label && followUps[target.value]) { label.textContent = followUps[target.value]; }
    var q = target.closest(".q[data-q]");
    if (q) { pipe(q); }
    refresh();
    if (event.type === "change") { save(); }
  }
  form.addEventListener("change", changed);
  form.addEventListener("input", function (event) { if (event.target.tagName !== "SELECT") { changed(event); } });

  next.addEventListener("click", function () {
    var bad = invalidOn([current]);
    if (bad) { refuse(bad); return; }
    var at = path.indexOf(current);
    if (at >= 0 && at < path.length - 1) { go(path[at + 1]); }
  });
  back.addEventListener("click", function () {
    var at = path.indexOf(current);
    if (at > 0) { go(path[at - 1]); }
  });

  form.addEventListener("submit", function (event) {
    refresh();
    var bad = invalidOn(path);
    if (bad) { event.preventDefault(); refuse(bad); return; }
    // The whole form goes now: an autosave still waiting would only race it to the server.
    clearTimeout(timer);
    if (form.dataset.preview) {
      event.preventDefault();
      document.getElementById("preview-status").textContent = form.dataset.preview;
    }
  });

  // A link of the error summary opens the page its question is on.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      go(pageOf(target), firstField(target));
    });
  }

  questions.forEach(function (q) { if (q.dataset.kind !== "statement") { pipe(q); } });
  refresh();
  if (summary) {
    // A refused submission: start on the page of the first answer to check, the summary read out.
    var first = form.querySelector(".err");
    current = first ? pageOf(first) : current;
    refresh();
    summary.focus();
  }
})();
