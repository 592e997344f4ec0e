// The printable reports in headless Chromium, as the board's secretary uses them: open the page
// with the token as a header, check it loaded with its sections and non-empty charts, with no
// request leaving csphub, no script and no Content-Security-Policy violation; then print it to
// an A4 PDF and a PNG (written to a temporary folder, never committed).
// Usage: node report.mjs BASE TOKEN PATH SECTIONS [CHROMIUM]
//   SECTIONS: comma-separated section ids the page must have, e.g. progress,indicators,grants
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, token, path, sections, executablePath = '/usr/bin/chromium'] = process.argv.slice(2);
const origin = new URL(base).origin;
const out = mkdtempSync(join(tmpdir(), 'csphub-report-'));
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
const failures = [];
try {
  const context = await browser.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') failures.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) failures.push(`outside request: ${r.url()}`);
  });
  const response = await page.goto(base + path, { waitUntil: 'networkidle' });
  if (response.status() !== 200) throw new Error(`status ${response.status()}: ${await response.text()}`);
  const found = await page.evaluate((ids) => ids.map((id) => [id, !!document.getElementById(id)]), sections.split(','));
  for (const [id, ok] of found) if (!ok) failures.push(`no section #${id}`);
  const charts = await page.evaluate(() => Array.from(document.querySelectorAll('svg.chart')).map((svg) => ({
    kind: svg.getAttribute('class'),
    bars: svg.querySelectorAll('rect.bar').length,
    width: svg.getBoundingClientRect().width,
  })));
  if (charts.length === 0) failures.push('no chart');
  for (const c of charts) if (c.bars === 0 || c.width < 50) failures.push(`empty chart: ${JSON.stringify(c)}`);
  // Maps: every drawn area a filled shape of some size, a legend beside it.
  const maps = await page.evaluate(() => Array.from(document.querySelectorAll('svg.map')).map((svg) => ({
    areas: svg.querySelectorAll('path.area').length,
    filled: Array.from(svg.querySelectorAll('path.area')).filter((p) => p.getAttribute('fill') && p.getBBox().width > 2).length,
    width: svg.getBoundingClientRect().width,
    legend: !!svg.nextElementSibling?.classList.contains('legend'),
  })));
  if (sections.split(',').includes('map') && maps.length === 0) failures.push('no map');
  for (const m of maps) if (m.areas === 0 || m.filled !== m.areas || m.width < 200 || !m.legend) failures.push(`bad map: ${JSON.stringify(m)}`);
  const scripts = await page.evaluate(() => document.scripts.length);
  if (scripts !== 0) failures.push(`${scripts} scripts on the page`);
  const pdf = join(out, 'report.pdf');
  await page.pdf({ path: pdf, format: 'A4', printBackground: true });
  const png = join(out, 'report.png');
  await page.screenshot({ path: png, fullPage: true });
  const head = readFileSync(pdf).subarray(0, 5).toString();
  if (head !== '%PDF-' || statSync(pdf).size < 5000) failures.push(`bad PDF: ${head}, ${statSync(pdf).size} bytes`);
  if (statSync(png).size < 5000) failures.push('PNG too small');
  console.log(`  ${path}: ${charts.length} charts, ${charts.reduce((n, c) => n + c.bars, 0)} bars, ${maps.map((m) => `a map of ${m.areas} areas`).join(', ') || 'no map'}; PDF ${statSync(pdf).size} bytes, PNG ${statSync(png).size} bytes in ${out}`);
} catch (e) {
  failures.push(`step failed: ${e.message}`);
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
