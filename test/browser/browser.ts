// Headless Chromium for the browser tests: Debian's `chromium` driven by playwright-core, with
// WebGPU on SwiftShader (no GPU needed), and a page served from dist/browser.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';

/** Chromium's path (Debian's package), or an error saying how to install it. */
export function chromiumPath(): string {
  for (const p of [process.env.CRAB_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) if (p && existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no Chromium found: apt-get install chromium (or set CRAB_CHROMIUM to a Chromium/Chrome binary)');
  }
}

/** Flags that give headless Chromium WebGPU on SwiftShader, its CPU Vulkan. */
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--no-sandbox'];

/** Launches Chromium and opens `url`; console errors are collected for failure messages. */
export async function openPage(url: string, extraArgs: string[] = []): Promise<{ browser: Browser; page: Page; errors: string[] }> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...WEBGPU_FLAGS, ...extraArgs], headless: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { browser, page, errors };
}

/**
 * Predicts a WAV file and its transcript through the page's form, and checks the probabilities
 * against `crab predict`'s in Node (within 1e-4: another adapter) with no error shown.
 */
export async function predictInPage(page: Page, wav: string, text: string, node: { probabilities: Record<string, number> }): Promise<Record<string, number>> {
  await page.evaluate(() => document.getElementById('prediction')!.removeAttribute('data-probabilities'));
  await page.setInputFiles('#audio', wav);
  await page.fill('#transcript', text);
  await page.click('#predict');
  await page.waitForSelector('#prediction[data-probabilities], #error:not([hidden])', { timeout: 120_000 });
  expect(await page.isHidden('#error'), (await page.textContent('#error')) ?? '').toBe(true);
  const got = JSON.parse((await page.getAttribute('#prediction', 'data-probabilities'))!) as Record<string, number>;
  expect(Object.keys(got)).toEqual(Object.keys(node.probabilities));
  for (const [l, p] of Object.entries(node.probabilities)) expect(Math.abs(got[l]! - p), `${l}: page ${got[l]}, node ${p}`).toBeLessThan(1e-4);
  return got;
}

