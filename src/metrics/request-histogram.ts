import type { LabelValues, Metric, Registry } from 'prom-client';

/** One value of the exposition, as prom-client's registry reads it from a histogram. */
interface HistogramValue<L extends string> {
  labels: { le?: string | number };
  sharedLabels: LabelValues<L>;
  value: number;
  metricName: string;
  /** prom-client's buckets carry one (none here); its sum and count do not. */
  exemplar?: null;
}

interface Series<L extends string> {
  labels: LabelValues<L>;
  /** Observations per bucket (not cumulative): counts[i] holds those in (bounds[i-1], bounds[i]]. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram observed on every request: each series (a fixed label set) keeps its counts in plain
 * numbers, and prom-client's registry reads them at each scrape as it reads its own Histogram, in
 * the same exposition. prom-client's Histogram checks, hashes and looks up its label object, and
 * finds its bucket by a number-keyed property, on every observation.
 */
export class RequestHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all: Series<L>[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric<L>);
  }

  /** Observes into the series of `labels`: call once per label set and keep what it answers. */
  series(labels: LabelValues<L>): (value: number) => void {
    const series: Series<L> = { labels, counts: this.bounds.map(() => 0), sum: 0, count: 0 };
    this.all.push(series);
    const bounds = this.bounds;
    return (value) => {
      let bucket = 0;
      while (bucket < bounds.length && value > bounds[bucket]) bucket++;
      if (bucket < bounds.length) series.counts[bucket] += 1;
      series.sum += value;
      series.count += 1;
    };
  }

  /** What the registry prints: per series, its cumulative buckets, +Inf, sum and count. */
  getForPromString(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: HistogramValue<L>[];
  }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramValue<L>[] = [];
    for (const series of this.all) {
      const shared = series.labels;
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i];
        values.push({
          labels: { le: bound },
          sharedLabels: shared,
          value: cumulative,
          metricName: bucket,
          exemplar: null,
        });
      });
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: shared,
          value: series.count,
          metricName: bucket,
          exemplar: null,
        },
        { labels: {}, sharedLabels: shared, value: series.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: shared, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  /** The same values with each series' labels in their own (the registry's JSON form). */
  async get() {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }

  reset(): void {
    for (const series of this.all) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
