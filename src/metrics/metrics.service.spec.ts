import { ConflictException, ServiceUnavailableException } from '@nestjs/common';
import { MetricsService } from './metrics.service';

async function mintSamples(metrics: MetricsService): Promise<string[]> {
  const text = await metrics.scrape();
  return text.split('\n').filter((line) => line.startsWith('datafor_mints_total{'));
}

describe('MetricsService', () => {
  it('names the configuration of a refusal that came after it was found, and hides it otherwise', async () => {
    const metrics = new MetricsService();
    const refuse = (name: string, error: Error) =>
      metrics.countMint(name, Promise.reject(error)).catch((thrown: unknown) => {
        expect(thrown).toBe(error);
      });
    await refuse('ERP', new ConflictException('token configuration ERP is disabled'));
    await refuse('guessed-1', new ServiceUnavailableException('the database is unavailable'));
    await refuse('guessed-2', new TypeError('something broke'));
    expect(await metrics.countMint('ERP', Promise.resolve('minted'))).toBe('minted');
    expect(await mintSamples(metrics)).toEqual([
      'datafor_mints_total{configuration="ERP",outcome="conflict"} 1',
      'datafor_mints_total{configuration="(unknown)",outcome="error"} 2',
      'datafor_mints_total{configuration="ERP",outcome="success"} 1',
    ]);
  });

  it('keeps each app in a registry of its own', async () => {
    const first = new MetricsService();
    const second = new MetricsService();
    await first.countMint('ERP', Promise.resolve(1));
    expect(await mintSamples(first)).toHaveLength(1);
    expect(await mintSamples(second)).toEqual([]);
  });
});
