// Tests build many APIs and run thousands of requests: their EMF lines would flood the output.
// Metrics are off unless a test turns them on (test/observability/ does, for its own handler).
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
