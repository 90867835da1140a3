import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOpenApiDocument, createApp } from '../app.setup';
import { settingsConfig } from '../../config/settings.config';

/**
 * `npm run lint:openapi` (and anyone publishing the API description): boots the app on a throwaway
 * SQLite store, so the document is the one Swagger UI serves, and writes it as JSON to the path given.
 */
async function writeDocument(path: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datafor-openapi-'));
  try {
    const settings = {
      ...settingsConfig(),
      dataDir,
      databaseUrl: undefined,
      logLevel: 'silent' as const,
    };
    const app = await createApp({ settings });
    try {
      writeFileSync(path, `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`);
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: node dist/app/cli/openapi-document.js <output.json>\n');
  process.exit(2);
}
writeDocument(path).catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
