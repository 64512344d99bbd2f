// Start Swagger UI on the API documentation page. It does what drf-spectacular's inline
// script does (drf-spectacular 0.30), with its values read from the #swagger-ui element's
// data attributes so that the page needs no inline script.
"use strict";

(() => {
  const element = document.getElementById("swagger-ui");
  const swaggerSettings = JSON.parse(element.dataset.settings || "{}");
  const schemaAuthNames = JSON.parse(element.dataset.schemaAuthNames || "[]");
  const csrfHeaderName = element.dataset.csrfHeaderName;
  const csrfToken = element.dataset.csrfToken;
  let schemaAuthFailed = false;
  let ui;

  const reloadSchema = (original) => (...args) => {
    schemaAuthFailed = false;
    setTimeout(() => ui.specActions.download());
    return original(...args);
  };
  const plugins = [];
  if (schemaAuthNames.length > 0) {
    plugins.push(() => ({
      statePlugins: {
        auth: {
          wrapActions: {
            authorizeOauth2: reloadSchema,
            authorize: reloadSchema,
            logout: reloadSchema,
          },
        },
      },
    }));
  }

  const isSchemaUrl = (url) =>
    ui !== undefined && url === new URL(ui.getConfigs().url, document.baseURI).href;

  // A schema that the stored credentials may not read is fetched once more without them.
  const responseInterceptor = (response) => {
    if (!response.ok && isSchemaUrl(response.url) && !schemaAuthFailed) {
      schemaAuthFailed = true;
      setTimeout(() => ui.specActions.download());
    }
    return response;
  };

  const injectAuthCredentials = (request) => {
    const state = ui && ui.getState().get("auth").get("authorized");
    const authorized = state ? state.toJS() : undefined;
    if (authorized === undefined) {
      return;
    }
    for (const authName of schemaAuthNames) {
      const definition = authorized[authName];
      if (definition === undefined || definition.schema === undefined) {
        continue;
      }
      const schema = definition.schema;
      if (schema.type === "http" && schema.scheme === "bearer") {
        request.headers.Authorization = "Bearer " + definition.value;
        return;
      }
      if (schema.type === "apiKey" && schema.in === "header") {
        request.headers[schema.name] = definition.value;
        return;
      }
    }
  };

  const requestInterceptor = (request) => {
    if (request.loadSpec && schemaAuthNames.length > 0 && !schemaAuthFailed) {
      injectAuthCredentials(request);
    }
    // Writes from the page carry the CSRF token, as Django requires for session sign-in.
    if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers[csrfHeaderName] = csrfToken;
    }
    return request;
  };

  ui = SwaggerUIBundle({
    url: element.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    plugins,
    layout: "BaseLayout",
    requestInterceptor,
    responseInterceptor,
    ...swaggerSettings,
  });
})();
