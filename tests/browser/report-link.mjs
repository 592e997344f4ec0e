// A report from a link, in headless Chromium, as the PCC's analyst opens one from an email: the
// client asks csphub for a one-minute link (createReportLink), the browser opens it with no
// header at all and sees the page with its sections and charts, nothing loaded from outside and
// no script; once the link has expired, the same address answers 401 with a JSON code.
// Usage: node report-link.mjs BASE TOKEN [CHROMIUM]
import { chromium } from 'playwright-core';

const [base, token, executablePath = '/usr/bin/chromium'] = process.argv.slice(2);
const origin = new URL(base).origin;
const failures = [];

const made = await fetch(`${base}/graphql`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({
    query: 'mutation($i: CreateReportLinkInput!) { createReportLink(input: $i) { path expiresAt } }',
    variables: { i: { kind: 'PCC_REPORT', financialYear: '2014/15', half: 'SECOND', minutes: 1 } },
  }),
}).then((r) => r.json());
if (made.errors) throw new Error(`createReportLink: ${JSON.stringify(made.errors)}`);
const { path, expiresAt } = made.data.createReportLink;
const expires = Date.parse(expiresAt);

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  // No extraHTTPHeaders: the browser sends no Authorization header.
  const context = await browser.newContext();
  const page = await context.newPage();
  const sent = [];
  page.on('request', (r) => {
    sent.push(r);
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) failures.push(`outside request: ${r.url()}`);
  });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  const opened = await page.goto(base + path, { waitUntil: 'networkidle' });
  if (opened.status() !== 200) throw new Error(`opened: status ${opened.status()}: ${await opened.text()}`);
  const headers = await sent[0].allHeaders();
  if (headers.authorization) failures.push('the browser sent an Authorization header');
  for (const id of ['progress', 'indicators', 'grants', 'surveys']) {
    if (!(await page.$(`#${id}`))) failures.push(`no section #${id}`);
  }
  const bars = await page.evaluate(() => document.querySelectorAll('svg.chart rect.bar').length);
  if (bars === 0) failures.push('no chart bars');
  if ((await page.evaluate(() => document.scripts.length)) !== 0) failures.push('a script on the page');
  const title = await page.title();
  console.log(`  opened ${path.slice(0, 28)}... without a header: "${title}", ${bars} bars; expires ${expiresAt}`);
  // On time: wait until just past the expiry, then open the same address again.
  const wait = expires - Date.now() + 1500;
  if (wait > 65_000) failures.push(`a one-minute link expires in ${wait} ms`);
  await new Promise((done) => setTimeout(done, Math.max(wait, 0)));
  const again = await page.goto(base + path);
  const body = await again.text();
  if (again.status() !== 401) failures.push(`after expiry: status ${again.status()}`);
  let code;
  try { code = JSON.parse(body).error.code; } catch { code = undefined; }
  if (code !== 'UNAUTHENTICATED' || !body.includes('expired')) failures.push(`after expiry: ${body}`);
  console.log(`  ${((Date.now() - expires) / 1000).toFixed(1)} s after expiry: ${again.status()} ${code}`);
} catch (e) {
  failures.push(`step failed: ${e.message}`);
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
