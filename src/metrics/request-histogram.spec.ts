import { Histogram, Registry } from 'prom-client';
import { RequestHistogram } from './request-histogram';

const NAME = 'test_request_duration_seconds';
const HELP = 'Time from request to answer';
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
type Label = 'route' | 'method' | 'code';

const observations: [Record<Label, string | number>, number][] = [
  [{ route: '/a', method: 'GET', code: 200 }, 0.001],
  [{ route: '/a', method: 'GET', code: 200 }, 0.005],
  [{ route: '/a', method: 'GET', code: 200 }, 0.0051],
  [{ route: '/a', method: 'GET', code: 200 }, 0.3],
  [{ route: '/a', method: 'GET', code: 200 }, 42],
  [{ route: '/a', method: 'GET', code: 401 }, 0.02],
  [{ route: '/b "q"', method: 'POST', code: 200 }, 10],
  [{ route: '/b "q"', method: 'POST', code: 200 }, 0],
];

/** prom-client's own Histogram and this one, fed the same observations. */
function both() {
  const expected = new Registry();
  const reference = new Histogram({
    name: NAME,
    help: HELP,
    labelNames: ['route', 'method', 'code'] as const,
    buckets: BUCKETS,
    registers: [expected],
  });
  const actual = new Registry();
  const histogram = new RequestHistogram<Label>(NAME, HELP, BUCKETS, actual);
  const series = new Map<string, (value: number) => void>();
  for (const [labels, value] of observations) {
    reference.observe(labels, value);
    const key = JSON.stringify(labels);
    if (!series.has(key)) series.set(key, histogram.series(labels));
    series.get(key)!(value);
  }
  return { expected, actual, histogram };
}

describe('RequestHistogram', () => {
  it("prints the same exposition as prom-client's Histogram", async () => {
    const { expected, actual } = both();
    const text = await actual.metrics();
    expect(text).toBe(await expected.metrics());
    expect(text).toContain(
      'test_request_duration_seconds_bucket{le="0.005",route="/a",method="GET",code="200"} 2',
    );
    expect(text).toContain(
      'test_request_duration_seconds_bucket{le="+Inf",route="/a",method="GET",code="200"} 5',
    );
  });

  it("answers the same JSON as prom-client's Histogram", async () => {
    const { expected, actual } = both();
    expect(await actual.getMetricsAsJSON()).toEqual(await expected.getMetricsAsJSON());
  });

  it('starts again from zero after a reset, keeping its series', async () => {
    const { actual, histogram } = both();
    histogram.reset();
    const text = await actual.metrics();
    expect(text).toContain(
      'test_request_duration_seconds_count{route="/a",method="GET",code="200"} 0',
    );
    expect(text).not.toMatch(/ [1-9]\d*$/m);
  });
});
