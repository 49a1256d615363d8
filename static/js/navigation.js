// The main menu as a disclosure on narrow screens (WAI-ARIA APG, "Disclosure Navigation Menu"):
// the toggle button shows and hides it, Escape closes it and returns focus to the button, and
// a click elsewhere closes it. On wide screens CSS hides the button and always shows the menu.
// A same-origin file, not inline, so the Content-Security-Policy stays strict.
(function () {
  "use strict";

  function setUp(toggle) {
    var header = toggle.closest(".site-header");
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!header || !menu) {
      return;
    }

    function isOpen() {
      return toggle.getAttribute("aria-expanded") === "true";
    }

    function setOpen(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    }

    toggle.hidden = false;
    header.classList.add("has-menu");
    setOpen(false);

    toggle.addEventListener("click", function () {
      setOpen(!isOpen());
    });

    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && isOpen()) {
        setOpen(false);
        toggle.focus();
      }
    });

    document.addEventListener("click", function (event) {
      if (isOpen() && !header.contains(event.target)) {
        setOpen(false);
      }
    });
  }

  document.querySelectorAll(".menu-toggle[aria-controls]").forEach(setUp);
})();
