// Narrow screens show each table row as a small card of labelled lines (static/css/app.css,
// "Tables on narrow screens"). Here every body cell takes its column heading as data-label,
// which the CSS prints before the value, and the table is marked as able to stack. Cells that
// already carry a label keep it. Runs on the page and on every piece htmx swaps in. Without
// script a wide table scrolls inside itself instead, and the page keeps its width.
(function () {
  "use strict";

  function headings(table) {
    var row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    var names = [];
    if (!row) {
      return names;
    }
    Array.prototype.forEach.call(row.cells, function (cell) {
      for (var span = 0; span < cell.colSpan; span += 1) {
        names.push(cell.textContent.trim());
      }
    });
    return names;
  }

  function label(table) {
    var names = headings(table);
    if (!names.length || table.closest(".grid-scroll")) {
      return;  // no headings to label with, or a grid that is meant to scroll sideways
    }
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var name = names[column];
          if (name && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan;
        });
      });
    });
    table.classList.add("stacks");
  }

  function labelWithin(root) {
    if (root.matches && root.matches("table")) {
      label(root);
    }
    root.querySelectorAll("table").forEach(label);
  }

  labelWithin(document);
  document.addEventListener("htmx:load", function (event) {
    labelWithin(event.target);
  });
})();
