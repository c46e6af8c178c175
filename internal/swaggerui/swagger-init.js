// Starts Swagger UI on the Icy Morning API docs page.
//
// Written for this project (not the swagger-ui-dist initializer). It lives in
// its own file because the page's Content-Security-Policy allows no inline
// script; the Go handler passes the spec URL, already made relative to the
// page, in the data-spec-url attribute of #swagger-ui, and the login's
// client (when the server has one) in data-client-id, data-scopes and
// data-redirect.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var clientId = root.getAttribute("data-client-id");
  var config = {
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
  };
  if (clientId) {
    // The provider sends the browser back here; it must be absolute and
    // equal to the client's registered callback. Relative to the page, so
    // that a path prefix (an API Gateway stage) is kept.
    config.oauth2RedirectUrl = new URL(root.getAttribute("data-redirect"), document.baseURI).href;
  }
  window.ui = SwaggerUIBundle(config);
  if (clientId) {
    // A public client: PKCE instead of a secret, which a page cannot keep.
    window.ui.initOAuth({
      clientId: clientId,
      usePkceWithAuthorizationCodeGrant: true,
      scopes: (root.getAttribute("data-scopes") || "").split(" ").filter(Boolean)
    });
  }
})();
