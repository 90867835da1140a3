import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.setup';
import { type AppSettings, settingsConfig } from './config/settings.config';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const settings = app.get<AppSettings>(settingsConfig.KEY);
  await app.listen({ port: settings.port, host: settings.host });
  new Logger('Main').log(
    `listening on http://${settings.host}:${settings.port}${settings.basePath ?? ''} (docs at /api-docs)`,
  );
}

bootstrap().catch((error: Error) => {
  // The logger may not exist yet (bad settings stop the start before it does): write one JSON line.
  process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), msg: error.message })}\n`);
  process.exit(1);
});
