// /api/v1/docs/: starts Swagger UI (from drf-spectacular-sidecar's static files) on the schema.
// A static file rather than drf-spectacular's inline script, which our policy would block. Calls
// "Try it out" makes ride on the session, so changes carry the CSRF token like the site's forms.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("swagger-ui");
    if (!el || !window.SwaggerUIBundle) { return; }
    window.ui = window.SwaggerUIBundle({
      url: el.dataset.schemaUrl,
      domNode: el,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      validatorUrl: null,  // no badge fetched from swagger.io
      requestInterceptor: function (request) {
        if (request.method && request.method !== "GET") {
          request.headers[el.dataset.csrfHeader] = el.dataset.csrfToken;
        }
        return request;
      }
    });
  });
})();
