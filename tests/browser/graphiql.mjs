// GraphiQL in headless Chromium, as a newcomer uses it: paste a demo token into the headers,
// open the docs explorer, and see it list Query, with no request leaving for the internet and
// no Content-Security-Policy violation.
// Usage: node graphiql.mjs URL TOKEN [CHROMIUM]
import { chromium } from 'playwright-core';

const [url, token, executablePath = '/usr/bin/chromium'] = process.argv.slice(2);
const origin = new URL(url).origin;
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
const failures = [];
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    // A Content-Security-Policy violation is reported as a console error.
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) failures.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) failures.push(`outside request: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'networkidle' });
  // The headers editor: replace the placeholder with the token, as a person pastes it.
  await page.getByText('Headers', { exact: true }).first().click();
  const pasted = await page.evaluate((t) => {
    const editor = Array.from(document.querySelectorAll('.CodeMirror'))
      .map((el) => el.CodeMirror)
      .find((cm) => cm && cm.getValue().includes('PASTE-A-TOKEN-HERE'));
    if (!editor) return false;
    editor.setValue(JSON.stringify({ Authorization: `Bearer ${t}` }, null, 2));
    return true;
  }, token);
  if (!pasted) throw new Error('no headers editor with the placeholder token');
  // Only what happens after the token is pasted counts (before it, 401s are expected).
  failures.length = 0;
  // Ask for the schema again now that the token is there (the editor hands its text on after a
  // short debounce).
  await page.waitForTimeout(1000);
  await page.locator('button[aria-label="Re-fetch GraphQL schema"]').click();
  await page.waitForTimeout(1500);
  await page.locator('button[aria-label="Show Documentation Explorer"]').click();
  await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first()
    .waitFor({ timeout: 15000 });
  await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().click();
  await page.locator('.graphiql-doc-explorer').getByText('incidentStats').first()
    .waitFor({ timeout: 10000 });
  await page.screenshot({ path: process.env.SCREENSHOT || '/tmp/csphub-graphiql.png' });
} catch (e) {
  failures.push(`step failed: ${e.message}`);
} finally {
  await browser.close();
}
if (failures.length) {
  console.error('GraphiQL check failed:\n' + failures.join('\n'));
  process.exit(1);
}
console.log('graphiql: the docs explorer lists Query and its fields; no outside request, no CSP violation');
