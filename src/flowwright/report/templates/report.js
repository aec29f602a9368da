// Filter by status, search by text: plain DOM, no data outside the page.
(() => {
  const tests = Array.from(document.querySelectorAll("details.test"));
  const rows = Array.from(document.querySelectorAll("tr.msg"));
  const buttons = Array.from(document.querySelectorAll("button[data-status]"));
  const search = document.getElementById("search");
  const shown = document.getElementById("shown");
  let status = "all";
  function apply() {
    const query = search.value.trim().toLowerCase();
    let count = 0;
    for (const test of tests) {
      const statusOk = status === "all" || test.dataset.status === status;
      const textOk = !query || test.textContent.toLowerCase().includes(query);
      test.hidden = !(statusOk && textOk);
      if (!test.hidden) count += 1;
      if (query && textOk) test.open = true;
    }
    for (const row of rows) {
      row.classList.toggle("hit", Boolean(query) && row.textContent.toLowerCase().includes(query));
    }
    shown.textContent = String(count);
  }
  for (const button of buttons) {
    button.addEventListener("click", () => {
      status = button.dataset.status;
      for (const other of buttons) other.classList.toggle("active", other === button);
      apply();
    });
  }
  search.addEventListener("input", apply);
  // A run-level table's link opens its test's entry, shown whatever the filter hides.
  for (const link of document.querySelectorAll("a.test-link")) {
    link.addEventListener("click", () => {
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (target) {
        target.hidden = false;
        target.open = true;
      }
    });
  }
  apply();
})();
