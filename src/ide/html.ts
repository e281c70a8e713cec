/**
 * The HTML page of the IDE. Asset URLs are relative (`ide/...`), so the page works wherever the
 * endpoint is mounted (an API Gateway stage prefix included) as long as `<endpoint dir>/ide/*`
 * reaches the same server.
 */
export const IDE_ASSET_PREFIX = 'ide/';

export function ideHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Question answering API · GraphiQL</title>
<link rel="stylesheet" href="${IDE_ASSET_PREFIX}app.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="module" src="${IDE_ASSET_PREFIX}app.js"></script>
</body>
</html>
`;
}
