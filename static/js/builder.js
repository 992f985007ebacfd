// The assessment builder's question picker (templates/assessments/new.html and its _picker partials).
// The page works without this file: every picker button posts the whole form to the server, which
// takes that step and sends the builder back. Here the search asks the server for one page of
// matches as it is typed (htmx swaps them into #picker-matches), and Add, Remove, ↑ and ↓ act in the
// page. The selected list holds the form's fields, questions=<slug> and position-<slug>, numbered
// 1, 2, … in the order shown, so the server reads the same form either way.
(() => {
  // Buttons that post the form without JavaScript are plain buttons here: Enter in a field then
  // still creates the assessment instead of pressing the first of them.
  const TAKEN_OVER = "button[data-picker-add], button[data-picker-step], button[data-picker-page], button[data-picker-search]";

  function element(tag, props = {}, ...children) {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  }

  function stepButton(step, label, text) {
    const button = element("button", { type: "button", className: "secondary outline small", textContent: text });
    button.dataset.pickerStep = step;
    button.setAttribute("aria-label", label);
    return button;
  }

  // The same row the server renders in _picker_selected.html.
  function selectedRow(slug, title, meta) {
    const field = `position-${slug}`;
    const row = element("li");
    Object.assign(row.dataset, { slug, title });
    const input = element("input", { name: field, inputMode: "numeric", size: 3 });
    input.setAttribute("aria-describedby", `${field}-error`);
    row.append(
      element("input", { type: "hidden", name: "questions", value: slug }),
      element("span", { className: "picker-title" }, title, " ", element("small", { className: "muted", textContent: `(${meta})` })),
      element("label", { className: "picker-position" }, "Position",
              element("span", { className: "visually-hidden", textContent: ` of ${title}` }), input),
      element("span", { className: "picker-moves" }, stepButton("up", `Move ${title} up`, "↑"),
              stepButton("down", `Move ${title} down`, "↓"), stepButton("remove", `Remove ${title}`, "Remove")),
      element("small", { id: `${field}-error`, className: "field-error" }),
    );
    return row;
  }

  function setUp(box) {
    const list = box.querySelector("[data-picker-order]");
    const filters = box.querySelector("#picker-filters");
    const announcer = box.querySelector("[data-picker-announce]");
    const rows = () => [...list.children];
    const positionOf = (row) => row.querySelector("input[name^='position-']");
    // A live region repeats nothing it already holds, so the same message twice differs by a space.
    const say = (text) => { announcer.textContent = text === announcer.textContent ? `${text}\u00a0` : text; };
    const takeOver = (root) => { for (const button of root.querySelectorAll(TAKEN_OVER)) button.type = "button"; };

    // Positions follow the list: 1, 2, …; a typed one that was no number is replaced, and its error goes.
    const renumber = () => rows().forEach((row, n) => {
      const field = positionOf(row);
      field.value = String(n + 1);
      field.removeAttribute("aria-invalid");
      row.querySelector(".field-error").textContent = "";
    });
    // The buttons and counts that depend on what is selected.
    const refresh = () => {
      const items = rows();
      items.forEach((row, n) => {
        row.querySelector("[data-picker-step=up]").disabled = n === 0;
        row.querySelector("[data-picker-step=down]").disabled = n === items.length - 1;
      });
      box.querySelector("[data-picker-count]").textContent = `(${items.length})`;
      box.querySelector("[data-picker-empty]").hidden = items.length > 0;
      const chosen = new Set(items.map((row) => row.dataset.slug));
      for (const button of box.querySelectorAll("[data-picker-add]")) {
        const added = chosen.has(button.value);
        button.disabled = false;  // aria-disabled instead: the button keeps the focus once it is pressed
        button.setAttribute("aria-disabled", String(added));
        button.textContent = added ? "Added" : "Add";
        button.setAttribute("aria-label", `${added ? "Added" : "Add"} ${button.dataset.title}`);
      }
    };
    const changed = () => { renumber(); refresh(); };

    const add = (button) => {
      if (button.getAttribute("aria-disabled") === "true") return;
      list.append(selectedRow(button.value, button.dataset.title, button.dataset.meta));
      changed();
      say(`Added ${button.dataset.title}: ${rows().length} selected.`);
    };
    const remove = (row) => {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      changed();
      (next?.querySelector("[data-picker-step=remove]") || filters.querySelector("[data-picker-words]")).focus();
      say(`Removed ${row.dataset.title}: ${rows().length} selected.`);
    };
    const move = (row, button) => {
      const up = button.dataset.pickerStep === "up";
      const other = up ? row.previousElementSibling : row.nextElementSibling;
      if (!other) return;
      if (up) other.before(row); else other.after(row);
      changed();
      // Focus follows the question; at the top or bottom, to its other arrow.
      (button.disabled ? row.querySelector(`[data-picker-step=${up ? "down" : "up"}]`) : button).focus();
      say(`${row.dataset.title} is now number ${rows().indexOf(row) + 1} of ${rows().length}.`);
    };

    box.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button || !box.contains(button)) return;
      if (button.matches("[data-picker-add]")) add(button);
      else if (button.matches("[data-picker-step=remove]")) remove(button.closest("li"));
      else if (button.matches("[data-picker-step]")) move(button.closest("li"), button);
      else if (button.matches("[data-picker-search]")) filters.dispatchEvent(new Event("picker-search"));
      else return;
      event.preventDefault();
    });
    // Enter in the search field searches now (htmx's trigger "picker-search"), rather than submitting.
    filters.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || !event.target.matches("input")) return;
      event.preventDefault();
      filters.dispatchEvent(new Event("picker-search"));
    });
    // A position typed by hand moves its question to that place; the others keep their order.
    list.addEventListener("change", (event) => {
      const field = event.target;
      if (!field.name?.startsWith("position-")) return;
      const row = field.closest("li");
      const others = rows().filter((other) => other !== row);
      const text = field.value.trim();
      const place = /^\d+$/.test(text) ? Math.min(Math.max(Number(text), 1), others.length + 1) : rows().indexOf(row) + 1;
      others.splice(place - 1, 0, row);
      const focused = document.activeElement;  // where the focus went: moving its row would drop it
      list.append(...others);
      changed();
      if (focused?.isConnected && document.activeElement !== focused) focused.focus();
      say(`${row.dataset.title} is now number ${place} of ${others.length}.`);
    });
    // A new page of matches: its buttons taken over, marked as added or not, its count announced;
    // after Previous or Next (whose button is gone) the focus goes to the count.
    document.body.addEventListener("htmx:afterSwap", (event) => {
      const target = event.detail?.target;
      if (target?.id !== "picker-matches" || !box.contains(target)) return;
      takeOver(target);
      refresh();
      const summary = target.querySelector("[data-picker-summary]");
      if (!summary) return;
      say(summary.textContent.replace(/\s+/g, " ").trim());
      if (event.detail.requestConfig?.elt?.matches?.("[data-picker-page]")) summary.focus();
    });

    takeOver(box);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const box of document.querySelectorAll("[data-question-picker]")) setUp(box);
  });
})();
