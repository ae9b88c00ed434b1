import { api } from './api';
import { TimeChart } from './chart';
import { fmtBytes, fmtDec, fmtInt, fmtMs, fmtRate } from './format';
import { href, useApi } from './hooks';
import { ErrorBox, Loading, PageHeader, Stat, Updated } from './ui';

export function OverviewPage() {
  const cluster = useApi((s) => api.cluster(s), [], 5000);
  const tp = useApi((s) => api.throughput(s), [], 5000);
  const c = cluster.data;
  const samples = tp.data?.samples ?? [];
  const times = samples.map((s) => s.time_ms);
  const last = samples[samples.length - 1];

  return (
    <div>
      <PageHeader title="Overview">
        <Updated at={cluster.loadedAt} loading={cluster.loading} onReload={() => (cluster.reload(), tp.reload())} />
      </PageHeader>
      <ErrorBox error={cluster.error} title="Cluster" />
      {!c && !cluster.error ? <Loading what="cluster" /> : null}
      {c ? (
        <div class="stats" data-testid="cluster-stats">
          <Stat label="Agents" value={<a href={href('agents')}>{fmtInt(c.agents)}</a>} sub={`controller ${c.controller_id}`} testId="stat-agents" />
          <Stat label="Topics" value={<a href={href('topics')}>{fmtInt(c.topics)}</a>} testId="stat-topics" />
          <Stat label="Partitions" value={fmtInt(c.partitions)} testId="stat-partitions" />
          <Stat label="Records" value={fmtInt(c.records)} testId="stat-records" />
          <Stat label="Storage" value={<a href={href('storage')}>{fmtBytes(c.storage_bytes)}</a>} sub={`${fmtInt(c.objects)} objects`} testId="stat-storage" />
          <Stat label="Produce" value={fmtRate(last?.records_in_per_sec ?? 0, 'rec/s')} sub={`${fmtRate(last?.bytes_in_per_sec ?? 0, 'B/s')} in · ${fmtRate(last?.bytes_out_per_sec ?? 0, 'B/s')} out`} testId="stat-throughput" />
        </div>
      ) : null}
      {c ? (
        <div class="muted small cluster-id">
          cluster id <span class="mono">{c.cluster_id}</span>
        </div>
      ) : null}
      <ErrorBox error={tp.error} title="Throughput" />
      <div class="charts">
        <TimeChart title="Records produced per second" times={times} testId="chart-records" format={(v) => fmtDec(v)} series={[{ label: 'records in/s', color: '#2563eb', values: samples.map((s) => s.records_in_per_sec), fill: true }]} />
        <TimeChart
          title="Bytes per second"
          times={times}
          testId="chart-bytes"
          format={(v) => `${fmtBytes(v)}/s`}
          series={[
            { label: 'produced', color: '#2563eb', values: samples.map((s) => s.bytes_in_per_sec) },
            { label: 'consumed', color: '#16a34a', values: samples.map((s) => s.bytes_out_per_sec) },
          ]}
        />
        <TimeChart
          title="p99 latency of Kafka requests (a Fetch includes its wait for data)"
          times={times}
          testId="chart-latency"
          format={(v) => `${fmtDec(v)} ms`}
          series={[
            { label: 'produce p99', color: '#d97706', values: samples.map((s) => s.produce_p99_ms), points: true },
            { label: 'fetch p99', color: '#7c3aed', values: samples.map((s) => s.fetch_p99_ms), points: true },
          ]}
        />
      </div>
      {tp.data ? <div class="muted small">one sample every {fmtInt(tp.data.interval_ms / 1000)} s, last {fmtMs(samples.length * tp.data.interval_ms)}; from the broker's own metrics</div> : null}
    </div>
  );
}
