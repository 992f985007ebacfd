"""Putting code into the code editor the way a candidate does."""

from __future__ import annotations

from playwright.sync_api import expect


def paste_code(page, text: str) -> None:
    """Replace the editor's text as a paste does (no auto-indent or bracket closing).

    Waits for the editor first: until it has mounted, the label names the plain
    textarea, which the editor then hides, so filling "Paste your code" races it.
    """
    content = page.locator(".cm-content")
    expect(content).to_be_visible()
    content.focus()
    page.keyboard.press("ControlOrMeta+a")
    paste_at_cursor(page, text)
    expect(page.locator("textarea#code")).to_have_value(text)


def paste_at_cursor(page, text: str) -> None:
    """A paste into the editor where its cursor is, as the clipboard delivers it."""
    page.locator(".cm-content").evaluate("""(content, text) => {
        const data = new DataTransfer();
        data.setData("text/plain", text);
        content.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }""", text)
