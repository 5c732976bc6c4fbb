// A respondent's page served at an address that is not its visit's own (a link opened without
// its answer's token, a thank-you page sent in reply to the answer, a page sent back with a
// correction) names that address in <meta name="visit-address">: written into the address bar,
// Back, a reload and a second Send come back to the same answer (docs/adr/0011). Where the
// address cannot be written (no history API, a sandboxed frame that refuses it), a page that may
// be refreshed (data-refresh) goes to its address instead, as a browser without scripts does; a
// page sent back with a correction never is: that would lose what the respondent typed.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="visit-address"]');
  if (!meta) { return; }
  var address;
  try {
    address = new URL(meta.content, window.location.href);
    if (address.href === window.location.href) { return; }
    window.history.replaceState(window.history.state, "", address.href);
  } catch (e) {
    if (address && meta.hasAttribute("data-refresh")) { window.location.replace(address.href); }
  }
}());
