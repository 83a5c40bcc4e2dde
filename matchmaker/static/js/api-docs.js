// The API documentation page: Swagger UI reads the OpenAPI document named on its element.
(function () {
  "use strict";
  const element = document.getElementById("swagger-ui");
  if (!element || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: element.getAttribute("data-spec-url"),
    domNode: element,
    deepLinking: true,
  });
})();
