// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // Move focus to the first invalid field after a form is re-rendered with errors.
  const invalid = event.detail.target.querySelector?.("[aria-invalid='true']");
  if (invalid) invalid.focus();
});
