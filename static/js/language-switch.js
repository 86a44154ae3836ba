// The language switch submits its form when a language is chosen (no inline handler: the pages'
// Content-Security-Policy allows no inline script). Without JavaScript its button does it.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.id === "language-select") {
    select.form.submit();
  }
});
