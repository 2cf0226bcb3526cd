/**
 * The console's two server-rendered documents: the login page and the shell every page of the
 * console is drawn in by `assets/console.js`. Nothing inline: the Content-Security-Policy
 * allows scripts and styles from the console's own origin only.
 *
 * @module
 */

/** The pages of the console, by path; the shell is served for each. */
export const PAGES = {
  "/": "Overview",
  "/dogstatsd": "DogStatsD",
  "/metrics": "Metrics",
  "/checks": "Checks",
  "/traces": "Traces",
  "/logs": "Logs",
  "/flare": "Flare",
  "/fleet": "Fleet",
} as const;

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text made safe for HTML text and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

const head = (title: string) =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · outpost</title>
<link rel="stylesheet" href="/assets/uplot.css">
<link rel="stylesheet" href="/assets/console.css">`;

/** The login form; `message` says why the last attempt failed. */
export function loginPage(message = ""): string {
  return `${head("Log in")}
</head>
<body class="login">
<main>
<h1>outpost</h1>
<form method="post" action="/login">
<label for="token">Auth token</label>
<input id="token" name="token" type="password" autocomplete="off" required autofocus>
<p class="hint">The agent's <code>auth_token</code> file, or run <code>outpost launch-gui</code>
for a one-time link.</p>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ""}
<button type="submit">Log in</button>
</form>
</main>
</body>
</html>`;
}

/** The frame of every page: the navigation and an empty `main` that the script fills. */
export function shellPage(path: keyof typeof PAGES, csrf: string, hostname: string): string {
  const links = Object.entries(PAGES).map(([href, name]) =>
    `<a href="${href}"${href === path ? ' aria-current="page"' : ""}>${name}</a>`
  ).join("\n");
  return `${head(PAGES[path])}
<meta name="csrf-token" content="${escapeHtml(csrf)}">
<script src="/assets/uplot.js" defer></script>
<script src="/assets/console.js" defer></script>
</head>
<body>
<header>
<span class="brand">outpost <small>${escapeHtml(hostname)}</small></span>
<nav>
${links}
</nav>
<form method="post" action="/logout">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<button type="submit">Log out</button>
</form>
</header>
<main id="page" aria-live="polite"></main>
</body>
</html>`;
}
