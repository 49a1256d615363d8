// Live pages poll every 2 s; a background tab need not. htmx's trigger filters
// ("every 2s [document.visibilityState === 'visible']") are evaluated with eval, which the
// strict CSP forbids, so polls of elements marked data-pause-hidden are cancelled here while
// the tab is hidden, and such elements poll at once ("pageVisible") when it is shown again.
document.addEventListener("htmx:beforeRequest", function (event) {
  if (document.hidden && event.detail.elt.hasAttribute("data-pause-hidden")) {
    event.preventDefault();
  }
});
document.addEventListener("visibilitychange", function () {
  if (document.hidden || !window.htmx) return;
  document.querySelectorAll("[data-pause-hidden]").forEach(function (element) {
    window.htmx.trigger(element, "pageVisible");
  });
});
