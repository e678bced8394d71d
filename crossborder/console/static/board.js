// The alerts board updates itself without a reload: every few seconds it
// fetches its list again, rendered by the server in the officer's language,
// and swaps it in place when it changed. The list is a polite live region,
// so a screen reader reads what changed without losing its place. The link
// that had focus keeps it. A session that ended reloads the page, which then
// asks to sign in again.
"use strict";

(function () {
  const board = document.getElementById("board");
  if (!board || !board.dataset.update) {
    return;
  }
  const every = 1000 * (Number(board.dataset.seconds) || 10);
  let shown = board.innerHTML.trim();

  async function update() {
    try {
      const answer = await fetch(board.dataset.update, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "text/html" },
      });
      if (answer.redirected || answer.status === 401) {
        window.location.reload();
        return;
      }
      if (answer.ok) {
        swap((await answer.text()).trim());
      }
    } catch (unreachable) {
      // The node did not answer: the next round tries again.
    }
    window.setTimeout(update, every);
  }

  function swap(html) {
    if (html === shown) {
      return;
    }
    const focused = board.contains(document.activeElement)
      ? document.activeElement.getAttribute("href")
      : null;
    const parsed = new DOMParser().parseFromString(html, "text/html");
    board.replaceChildren(...parsed.body.childNodes);
    shown = html;
    if (focused) {
      const again = Array.from(board.querySelectorAll("a[href]")).find(
        (link) => link.getAttribute("href") === focused,
      );
      if (again) {
        again.focus();
      }
    }
  }

  window.setTimeout(update, every);
})();
