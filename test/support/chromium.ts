import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`), never a downloaded build. */
export const CHROMIUM = '/usr/bin/chromium';

export interface ChromiumOptions {
  /** Host names Chromium maps to 127.0.0.1 itself, so pages see remote origins over loopback. */
  hosts: string[];
  /** Answers the browser's own HTTP authentication prompts, as a person would. */
  httpCredentials?: { username: string; password: string };
}

/** A headless persistent context in `profile`, the way every browser suite starts Chromium. */
export async function launchChromium(
  profile: string,
  options: ChromiumOptions,
): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install Debian's package with \`apt-get install chromium\``,
    );
  }
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--host-resolver-rules=${options.hosts.map((host) => `MAP ${host} 127.0.0.1`).join(', ')}`,
    ],
    viewport: { width: 1280, height: 900 },
    httpCredentials: options.httpCredentials,
  });
}
