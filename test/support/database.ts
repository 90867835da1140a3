import { randomBytes } from 'node:crypto';
import pg from 'pg';

const { Client } = pg;

/** The PostgreSQL server the e2e suite runs against when DATABASE_URL is set; SQLite otherwise. */
export const POSTGRES_URL = process.env.DATABASE_URL;

export function databaseKind(): 'postgres' | 'sqlite' {
  return POSTGRES_URL ? 'postgres' : 'sqlite';
}

/**
 * A fresh database on the server of DATABASE_URL, so that each test app starts empty and runs
 * the migrations itself. Fails loudly (never skips) when the server does not answer.
 */
export async function createPostgresDatabase(): Promise<{
  url: string;
  drop: () => Promise<void>;
}> {
  const admin = new Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `DATABASE_URL is set but PostgreSQL does not answer at ${new URL(POSTGRES_URL!).host}: ${(error as Error).message}. ` +
        'Start it (see README, "Tests") or unset DATABASE_URL to test on SQLite.',
    );
  }
  const name = `datafor_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
