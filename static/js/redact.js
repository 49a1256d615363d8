// Drawing boxes to black out on a page image (templates/samples/redact.html).
//
// Each page has an SVG overlay with a viewBox of 0 0 1 1, so a rectangle's x, y, width and
// height are fractions of the page: exactly what the server takes. Rectangles are placed with
// setAttribute (SVG geometry attributes, not style, so the strict CSP allows them). Pointer
// events cover mouse, pen and touch. Every box becomes a list item holding a hidden
// "<prefix>-box" input ("x,y,width,height") and a Remove button; the typed fields below the
// page add a box the same way, for keyboard users. Without this script the overlay stays
// hidden and the typed fields are posted as they are, one box at a time.
//
// Each page posts on its own and the page reloads after it, so a page's button refuses while
// another page still holds boxes not yet blacked out: they would be dropped without a word.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var MIN_SIZE = 0.004; // a click without a drag is not a box

  function clamp(value) {
    return Math.min(1, Math.max(0, value));
  }

  function percent(value) {
    return (Math.round(value * 1000) / 10).toString() + " %";
  }

  function setRect(rect, box) {
    rect.setAttribute("x", box.x);
    rect.setAttribute("y", box.y);
    rect.setAttribute("width", box.width);
    rect.setAttribute("height", box.height);
  }

  function boxBetween(a, b) {
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y),
             width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) };
  }

  function pendingBoxes(section) {
    return section.querySelectorAll("[data-redact-boxes] li").length;
  }

  function otherPagesWithBoxes(section, sections) {
    return sections.filter(function (other) {
      return other !== section && pendingBoxes(other) > 0;
    }).map(function (other) {
      return other.getAttribute("data-page-number");
    });
  }

  function setUp(section, sections) {
    var svg = section.querySelector(".redact-overlay");
    var form = section.querySelector(".redact-form");
    var list = form.querySelector("[data-redact-boxes]");
    var count = form.querySelector("[data-redact-count]");
    var addButton = form.querySelector("[data-redact-add]");
    var boxName = form.getAttribute("data-box-name");
    var maxBoxes = parseInt(form.getAttribute("data-max-boxes"), 10);
    var typed = ["left", "top", "width", "height"].map(function (name) {
      return form.querySelector("[name$='-" + name + "']");
    });
    var start = null;
    var draft = null;

    svg.hidden = false;
    count.hidden = false;
    addButton.hidden = false;

    function boxes() {
      return list.querySelectorAll("li").length;
    }

    function updateCount(message) {
      var n = boxes();
      count.textContent = message || (n === 0 ? "No boxes drawn on this page yet."
        : n + (n === 1 ? " box" : " boxes") + " ready to black out. Nothing changes until you press the button below.");
    }

    function addBox(box) {
      if (boxes() >= maxBoxes) {
        updateCount("At most " + maxBoxes + " boxes at once: black these out first.");
        return;
      }
      var rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("class", "redact-box");
      setRect(rect, box);
      svg.appendChild(rect);

      var item = document.createElement("li");
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = boxName;
      input.value = [box.x, box.y, box.width, box.height].map(function (v) {
        return v.toFixed(5);
      }).join(",");
      var label = document.createElement("span");
      label.textContent = "Box: left " + percent(box.x) + ", top " + percent(box.y) + ", " +
        percent(box.width) + " wide, " + percent(box.height) + " high ";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link-button";
      remove.textContent = "Remove";
      remove.addEventListener("click", function () {
        rect.remove();
        item.remove();
        updateCount();
        addButton.focus();
      });
      item.appendChild(input);
      item.appendChild(label);
      item.appendChild(remove);
      list.appendChild(item);
      updateCount();
    }

    function point(event) {
      var bounds = svg.getBoundingClientRect();
      return { x: clamp((event.clientX - bounds.left) / bounds.width),
               y: clamp((event.clientY - bounds.top) / bounds.height) };
    }

    svg.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) {
        return;
      }
      event.preventDefault();
      svg.setPointerCapture(event.pointerId);
      start = point(event);
      draft = document.createElementNS(SVG, "rect");
      draft.setAttribute("class", "redact-draft");
      setRect(draft, boxBetween(start, start));
      svg.appendChild(draft);
    });
    svg.addEventListener("pointermove", function (event) {
      if (start) {
        setRect(draft, boxBetween(start, point(event)));
      }
    });
    function finish(event, keep) {
      if (!start) {
        return;
      }
      var box = boxBetween(start, point(event));
      draft.remove();
      start = null;
      draft = null;
      if (keep && box.width >= MIN_SIZE && box.height >= MIN_SIZE) {
        addBox(box);
      }
    }
    svg.addEventListener("pointerup", function (event) { finish(event, true); });
    svg.addEventListener("pointercancel", function (event) { finish(event, false); });

    addButton.addEventListener("click", function () {
      var values = typed.map(function (field) { return parseFloat(field.value); });
      if (values.some(function (v) { return !isFinite(v); })) {
        updateCount("Type all four numbers (left, top, width, height) to add a box.");
        return;
      }
      var box = { x: values[0] / 100, y: values[1] / 100,
                  width: values[2] / 100, height: values[3] / 100 };
      if (box.x < 0 || box.y < 0 || box.width <= 0 || box.height <= 0 ||
          box.x + box.width > 1 || box.y + box.height > 1) {
        updateCount("That box is not inside the page: left + width and top + height must be at most 100.");
        return;
      }
      addBox(box);
      typed.forEach(function (field) { field.value = ""; });
    });

    form.addEventListener("submit", function (event) {
      var others = otherPagesWithBoxes(section, sections);
      if (others.length) {
        event.preventDefault();
        updateCount("Page " + others.join(", ") + (others.length === 1 ? " has" : " have") +
          " boxes not yet blacked out. Black them out first (or remove them): saving this page " +
          "reloads the pages and would drop them.");
        count.focus();
      }
    });
  }

  function init() {
    var sections = Array.prototype.slice.call(document.querySelectorAll(".redact-page"));
    sections.forEach(function (section) { setUp(section, sections); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
