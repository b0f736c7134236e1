/**
 * The sign-in page of the operator UIs. The token is typed into a password field
 * and sent once, in an Authorization header, to POST /admin/session, which answers
 * with an HttpOnly cookie: the token never appears in a URL, a history entry, a
 * server log or a cookie.
 */
export function loginPage(boardPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>AI Storage Orchestrator: operator sign-in</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; }
  input { width: 100%; padding: .5rem; font: inherit; box-sizing: border-box; }
  button { margin-top: 1rem; padding: .5rem 1.5rem; font: inherit; }
  #status { color: #a00; min-height: 1.5rem; }
</style>
</head>
<body>
<h1>Operator sign-in</h1>
<p>Paste an API token (read-only tokens may look, not act). The browser keeps a
session cookie for an hour; the token itself is not stored.</p>
<form id="signin">
  <label for="token">API token</label>
  <input id="token" name="token" type="password" autocomplete="off" required>
  <button type="submit">Open the queue board</button>
</form>
<p id="status" role="status"></p>
<p><a href="/api/v1/docs">API reference</a></p>
<script>
  document.getElementById('signin').addEventListener('submit', async (event) => {
    event.preventDefault();
    const field = document.getElementById('token');
    const answer = await fetch('/admin/session', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + field.value.trim() },
      credentials: 'same-origin',
    });
    field.value = '';
    if (answer.ok) {
      location.assign(${JSON.stringify(boardPath)});
    } else {
      document.getElementById('status').textContent = 'The token was refused (' + answer.status + ').';
    }
  });
</script>
</body>
</html>
`;
}
