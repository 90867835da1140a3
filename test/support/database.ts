import { randomBytes } from 'node:crypto';
import pg from 'pg';

const { Client } = pg;

/** The PostgreSQL server the e2e suite runs against when DATABASE_URL is set; SQLite otherwise. */
export const POSTGRES_URL = process.env.DATABASE_URL;

export function databaseKind(): 'postgres' | 'sqlite' {
  return POSTGRES_URL ? 'postgres' : 'sqlite';
}

/** Where a suite that needs PostgreSQL in every pass (SQLite's too) finds it. */
export const REQUIRED_POSTGRES_URL = POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A fresh database on the server of DATABASE_URL (or of `required`, for a suite that runs on
 * PostgreSQL whatever the pass), so that each test app starts empty and runs the migrations
 * itself. Fails loudly (never skips) when the server does not answer.
 */
export async function createPostgresDatabase(required?: string): Promise<{
  url: string;
  drop: () => Promise<void>;
}> {
  const serverUrl = required ?? POSTGRES_URL;
  if (!serverUrl) throw new Error('createPostgresDatabase needs DATABASE_URL or a server URL');
  const admin = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL does not answer at ${new URL(serverUrl).host}: ${(error as Error).message}. ` +
        (required
          ? 'This suite needs PostgreSQL even when the others run on SQLite: start it (see README, "Run it, test it"), or set DATABASE_URL to one that answers.'
          : 'Start it (see README, "Run it, test it") or unset DATABASE_URL to test on SQLite.'),
    );
  }
  const name = `datafor_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
