// Starts Swagger UI on the Icy Morning API docs page.
//
// Written for this project (not the swagger-ui-dist initializer). It lives in
// its own file because the page's Content-Security-Policy allows no inline
// script; the Go handler passes the spec URL, already made relative to the
// page, in the data-spec-url attribute of #swagger-ui.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
    // Never read ?url= / ?configUrl= from the page address.
    queryConfigEnabled: false,
    // The default validator badge loads an image from an external service;
    // the docs must work offline and the CSP forbids it anyway.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout"
  });
})();
