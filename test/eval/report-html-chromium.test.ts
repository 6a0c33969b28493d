// Opens the HTML report in headless Chromium: the page's script runs without errors and the
// charts are drawn (the screenshot holds the bar colours in quantity, not a blank page).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { renderHtmlReport } from '../../eval/index.js';
import { countColor, decodePng } from '../helpers/report-png.js';
import { syntheticReport } from '../helpers/report-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const root = mkdtempSync(join(tmpdir(), 'cf-html-'));
after(() => rmSync(root, { recursive: true, force: true }));

function chromium(file: string, ...mode: string[]) {
  const r = spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(root, 'profile')}`,
      '--enable-logging=stderr',
      '--v=0',
      '--window-size=1200,1600',
      ...mode,
      pathToFileURL(file).href,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return r;
}

/**
 * Script errors (the page's own error hook, and Chromium's console log), and with `png` a screenshot
 * taken by the same launch (one Chromium start is most of the cost).
 */
function pageErrors(file: string, png?: string): string[] {
  const r = chromium(file, '--dump-dom', ...(png ? [`--screenshot=${png}`] : []));
  const errors = r.stderr.split('\n').filter((l) => /CONSOLE|Uncaught/.test(l) && /error|Uncaught/i.test(l));
  const hook = /data-js-error="([^"]*)"/.exec(r.stdout);
  if (hook) errors.push(hook[1]);
  if (!/data-ready="1"/.test(r.stdout)) errors.push('the report script did not finish');
  return errors;
}

describe('HTML report in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  const png = join(root, 'shot.png');
  it('runs its script without errors, and the check would see one', async () => {
    const html = renderHtmlReport(await syntheticReport(true));
    const file = join(root, 'report.html');
    writeFileSync(file, html);
    assert.deepEqual(pageErrors(file, png), []);
    const broken = join(root, 'broken.html');
    writeFileSync(broken, html.replace('</body>', '<script>undefinedFunction();</script></body>'));
    assert.ok(pageErrors(broken).some((e) => /undefinedFunction/.test(e)));
  });

  it('draws its charts: the screenshot holds both bar colours and is far from blank', async () => {
    // The screenshot the first test's launch took of the report.
    const img = decodePng(readFileSync(png));
    assert.equal(img.width, 1200);
    assert.equal(img.height, 1600);
    // Bars of 8 metric charts in the first screen: thousands of pixels of each series' colour.
    assert.ok(countColor(img, '#4e79a7') > 3000, `base colour: ${countColor(img, '#4e79a7')}`);
    assert.ok(countColor(img, '#f28e2b') > 3000, `adapter colour: ${countColor(img, '#f28e2b')}`);
    let nonWhite = 0;
    for (let i = 0; i < img.rgb.length; i += 3) if (img.rgb[i] + img.rgb[i + 1] + img.rgb[i + 2] < 720) nonWhite++;
    assert.ok(nonWhite / (img.width * img.height) > 0.05, `non-white share ${nonWhite / (img.width * img.height)}`);
    // A page with no charts is told apart.
    const plain = join(root, 'plain.html');
    writeFileSync(plain, '<!DOCTYPE html><html><body><p>no charts</p></body></html>');
    const plainPng = join(root, 'plain.png');
    chromium(plain, `--screenshot=${plainPng}`);
    assert.equal(countColor(decodePng(readFileSync(plainPng)), '#4e79a7'), 0);
  });
});
