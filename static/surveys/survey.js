// The public survey page (also inside customers' iframes): the follow-up question follows the
// score at once, and answers are kept as the respondent goes, so a closed tab still leaves a
// started response. A static file, like all our scripts: the page's policy allows no other.
(function () {
  "use strict";
  var form = document.getElementById("survey");
  var label = document.getElementById("follow-up");
  var texts = document.getElementById("follow-ups");
  if (!form || !label || !texts) { return; }
  texts = JSON.parse(texts.textContent);
  var timer;
  function save() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(form.dataset.saveUrl, {method: "POST", body: new FormData(form), keepalive: true});
    }, 300);
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "score" && texts[event.target.value]) { label.textContent = texts[event.target.value]; }
    save();
  });
})();
