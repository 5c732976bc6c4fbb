// A respondent's page served at an address that is not its visit's own (a link opened without
// its answer's token, a thank-you page sent in reply to the answer, a page sent back with a
// correction) names that address in <meta name="visit-address">: written into the address bar,
// Back, a reload and a second Send come back to the same answer (docs/adr/0011). Without
// scripts the page refreshes to it instead, except a page sent back with a correction, which
// would lose what the respondent typed.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="visit-address"]');
  if (!meta || !window.history || !window.history.replaceState) { return; }
  try {
    var address = new URL(meta.content, window.location.href);
    if (address.href !== window.location.href) {
      window.history.replaceState(window.history.state, "", address.href);
    }
  } catch (e) { /* a sandboxed frame may refuse: the page works on without it */ }
}());
