import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase, REQUIRED_POSTGRES_URL } from './database';
import { alive, type ServiceProcess } from './service-process';
import { TcpProxy } from './tcp-proxy';

/** A fresh PostgreSQL database that a service reaches through a TcpProxy of the test's own. */
export interface ProxiedPostgres {
  /** The database itself, for the test's own queries. */
  directUrl: string;
  /** The same database through the proxy, for the service. */
  url: string;
  proxy: TcpProxy;
  /** A fresh DATA_DIR for the service. */
  dataDir: string;
  /** Kills `service` if it still runs, closes the proxy, drops the database, removes dataDir. */
  close(service?: ServiceProcess): Promise<void>;
}

/**
 * A database on the server of DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test (the
 * outage suites run on PostgreSQL in every pass); fails, never skips, when it does not answer.
 */
export async function proxiedPostgres(label: string): Promise<ProxiedPostgres> {
  const dataDir = mkdtempSync(join(tmpdir(), `datafor-${label}-`));
  const database = await createPostgresDatabase(REQUIRED_POSTGRES_URL);
  const direct = new URL(database.url);
  const proxy = new TcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const proxied = new URL(database.url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(await proxy.listen());
  return {
    directUrl: database.url,
    url: proxied.toString(),
    proxy,
    dataDir,
    close: async (service) => {
      if (service && alive(service.child)) {
        service.child.kill('SIGKILL');
        await service.exited;
      }
      await proxy.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
