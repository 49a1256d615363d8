// Shows what an htmx request's error response said. htmx swaps no 4xx or 5xx response (see
// responseHandling in base.html), so without this a refused or failed action would change
// nothing on the page. The server's error fragment (templates/errors/_error.html) is parsed,
// and only its text is copied into the page's #request-error region: nothing from the
// response is inserted as markup, and nothing runs. A same-origin file: the CSP stays strict.
(function () {
  "use strict";

  function region() {
    return document.getElementById("request-error");
  }

  function textOf(root, selector) {
    var node = root && root.querySelector(selector);
    return node ? node.textContent.trim() : "";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  // The title, hint, detail and reference of the server's error fragment, or a plain
  // sentence when the response was not one of ours (a proxy's page, say).
  function describe(xhr) {
    var parsed = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var panel = parsed.getElementById("error");
    return {
      title: textOf(panel, "h1") || "The server could not complete this request",
      hint: textOf(panel, ".error-hint") || "Please reload the page and try again.",
      detail: textOf(panel, ".detail"),
      reference: textOf(panel, ".request-id") || xhr.getResponseHeader("X-Request-ID") || "",
      status: xhr.status
    };
  }

  function show(message) {
    var target = region();
    if (!target) {
      return;
    }
    var panel = element("section", "error-panel", "");
    panel.setAttribute("role", "alert");
    panel.appendChild(element("h2", "", message.title));
    panel.appendChild(element("p", "error-hint", message.hint));
    if (message.detail) {
      panel.appendChild(element("p", "detail", message.detail));
    }
    var footer = element("p", "muted", message.status ? "Error " + message.status : "");
    if (message.reference) {
      footer.appendChild(document.createTextNode(" · reference "));
      footer.appendChild(element("code", "request-id", message.reference));
    }
    panel.appendChild(footer);
    var close = element("button", "link-button", "Dismiss");
    close.type = "button";
    close.addEventListener("click", clear);
    panel.appendChild(close);
    target.replaceChildren(panel);
    target.hidden = false;
    target.scrollIntoView({block: "nearest"});
  }

  function clear() {
    var target = region();
    if (target) {
      target.replaceChildren();
      target.hidden = true;
    }
  }

  document.addEventListener("htmx:beforeRequest", clear);
  document.addEventListener("htmx:responseError", function (event) {
    show(describe(event.detail.xhr));
  });
  document.addEventListener("htmx:sendError", function () {
    show({
      title: "The server could not be reached",
      hint: "Check your connection and try again.",
      detail: "",
      reference: "",
      status: 0
    });
  });
})();
