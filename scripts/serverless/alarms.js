/**
 * Alarms and a dashboard that deploy with the stack (CloudWatch), each behind a parameter. Read by
 * osls through `${file(./scripts/serverless/alarms.js):resources}` into `resources.Resources`;
 * never packaged. docs/operations.md ("Alarms") says what each alarm means and what to do.
 *
 * Parameters (`--param=name=value`, or per stage under `params` in serverless.yml). A threshold of
 * `none` (or an empty value in `params`) leaves that alarm out:
 *   alarmTopicArn           SNS topic the alarms notify (ALARM and OK); none by default (the
 *                           alarms still change state in the console)
 *   alarm5xxPercent         % of requests answered 5xx by the front door over 5 minutes (default 5;
 *                           only once there were at least 10 requests in those 5 minutes): API
 *                           Gateway's metrics of the HTTP API or REST API, or the function URL's
 *                           (frontDoor, scripts/serverless/front-door.js)
 *   alarmDurationPercent    p99 of the function's duration over 5 minutes, as a % of its timeout
 *                           (default 80: 23.2 s of 29 s)
 *   alarmThrottles          throttled invocations in 5 minutes (default 1: the reserved
 *                           concurrency is full)
 *   alarmModelLoadFailures  failed model loads in 5 minutes (default 1), from the function's
 *                           ModelLoadFailures metric (src/server/metrics.ts)
 *   alarmBudgetRejections   inputs refused by the work budget in 5 minutes (default 50), from the
 *                           BudgetRejections metric: a spike means someone sends oversized work
 *   dashboard               true (default) or false: one CloudWatch dashboard for the stage
 *   metricsNamespace        the function's metrics namespace (POWERTOOLS_METRICS_NAMESPACE)
 *
 * The function's own metrics carry the dimensions `service` and `stage` (and `modelVersion` or
 * `code` on some), so the alarms name exactly `service`, `stage`; CloudWatch alarms match
 * dimensions exactly.
 */
'use strict';

const OFF = ['none', ''];
/** The service name on the function's metrics (src/server/logger.ts SERVICE_NAME). */
const SERVICE_NAME = 'serverless-qa-graphql';
const PERIOD_S = 300;
/** Fewer requests than this in a period: a 5xx rate means nothing (1 failure of 2 is 50 %). */
const MIN_REQUESTS_FOR_RATE = 10;

/** A threshold parameter: null when switched off, else a positive number; anything else fails. */
async function threshold(resolveVariable, name, { max } = {}) {
  const text = String((await resolveVariable(`param:${name}`)) ?? '').trim();
  if (OFF.includes(text.toLowerCase())) return null;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (max !== undefined && value > max)) {
    throw new Error(
      `${name} must be a number above 0${max === undefined ? '' : ` and at most ${max}`}, or "none", got "${text}"`,
    );
  }
  return value;
}

async function text(resolveVariable, name) {
  return String((await resolveVariable(name)) ?? '').trim();
}

async function settings(resolveVariable) {
  const topic = await text(resolveVariable, 'param:alarmTopicArn');
  const dashboard = (await text(resolveVariable, 'param:dashboard')).toLowerCase();
  if (!['true', 'false'].includes(dashboard)) throw new Error(`dashboard must be true or false, got "${dashboard}"`);
  const timeoutS = Number(await text(resolveVariable, 'param:timeout'));
  return {
    door: await text(resolveVariable, 'param:frontDoor'),
    topic: OFF.includes(topic.toLowerCase()) ? null : topic,
    dashboard: dashboard === 'true',
    namespace: await text(resolveVariable, 'param:metricsNamespace'),
    service: await text(resolveVariable, 'self:service'),
    stage: await text(resolveVariable, 'sls:stage'),
    timeoutS,
    fivexx: await threshold(resolveVariable, 'alarm5xxPercent', { max: 100 }),
    duration: await threshold(resolveVariable, 'alarmDurationPercent', { max: 100 }),
    throttles: await threshold(resolveVariable, 'alarmThrottles'),
    loadFailures: await threshold(resolveVariable, 'alarmModelLoadFailures'),
    budget: await threshold(resolveVariable, 'alarmBudgetRejections'),
  };
}

const FUNCTION = { Ref: 'ApiLambdaFunction' };

/**
 * The front door's request metrics: namespace, dimensions (for an alarm, and as Fn::Sub text for
 * the dashboard) and the names of its request count, 4xx and 5xx. A REST API's metrics are named
 * by the API's name (osls names it `<stage>-<service>`) and stage; a function URL's by the function.
 */
function doorMetrics(s) {
  if (s.door === 'restApi') {
    const name = `${s.stage}-${s.service}`;
    return {
      title: 'API Gateway REST API',
      namespace: 'AWS/ApiGateway',
      dimensions: [
        { Name: 'ApiName', Value: name },
        { Name: 'Stage', Value: s.stage },
      ],
      dashboardDimensions: ['ApiName', name, 'Stage', s.stage],
      count: 'Count',
      fourxx: '4XXError',
      fivexx: '5XXError',
    };
  }
  if (s.door === 'functionUrl') {
    return {
      title: 'function URL',
      namespace: 'AWS/Lambda',
      dimensions: [{ Name: 'FunctionName', Value: FUNCTION }],
      dashboardDimensions: ['FunctionName', '${ApiLambdaFunction}'],
      count: 'UrlRequestCount',
      fourxx: 'Url4xxCount',
      fivexx: 'Url5xxCount',
    };
  }
  return {
    title: 'API Gateway',
    namespace: 'AWS/ApiGateway',
    dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
    dashboardDimensions: ['ApiId', '${HttpApi}'],
    count: 'Count',
    fourxx: '4xx',
    fivexx: '5xx',
  };
}

function alarm(s, { name, description, ...properties }) {
  const actions = s.topic ? { AlarmActions: [s.topic], OKActions: [s.topic] } : {};
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${s.service}-${s.stage}-${name}`,
      AlarmDescription: `${description} What to do: docs/operations.md, "Alarms".`,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      // No data is no traffic (or no load attempt): not a failure.
      TreatMissingData: 'notBreaching',
      ...actions,
      ...properties,
    },
  };
}

function ownMetric(s, metricName) {
  return {
    Namespace: s.namespace,
    MetricName: metricName,
    Dimensions: [
      { Name: 'service', Value: SERVICE_NAME },
      { Name: 'stage', Value: s.stage },
    ],
    Period: PERIOD_S,
    Statistic: 'Sum',
  };
}

function alarms(s) {
  const out = {};
  if (s.fivexx !== null) {
    const door = doorMetrics(s);
    const apiMetric = (id, metricName) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: { Namespace: door.namespace, MetricName: metricName, Dimensions: door.dimensions },
        Period: PERIOD_S,
        Stat: 'Sum',
      },
    });
    out.Api5xxRateAlarm = alarm(s, {
      name: '5xx-rate',
      description: `${s.fivexx} % or more of requests were answered with a 5xx over 5 minutes.`,
      Threshold: s.fivexx,
      Metrics: [
        apiMetric('errors', door.fivexx),
        apiMetric('requests', door.count),
        {
          Id: 'rate',
          Label: '5xx %',
          ReturnData: true,
          Expression: `IF(requests >= ${MIN_REQUESTS_FOR_RATE}, 100 * errors / requests, 0)`,
        },
      ],
    });
  }
  if (s.duration !== null) {
    const ms = Math.round((s.timeoutS * 1000 * s.duration) / 100);
    out.ApiDurationP99Alarm = alarm(s, {
      name: 'duration-p99',
      description: `The p99 duration over 5 minutes reached ${ms} ms, ${s.duration} % of the ${s.timeoutS} s timeout.`,
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: FUNCTION }],
      ExtendedStatistic: 'p99',
      Period: PERIOD_S,
      Threshold: ms,
    });
  }
  if (s.throttles !== null) {
    out.ApiThrottlesAlarm = alarm(s, {
      name: 'throttles',
      description: `At least ${s.throttles} invocations were throttled in 5 minutes (the reserved concurrency is full).`,
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: [{ Name: 'FunctionName', Value: FUNCTION }],
      Statistic: 'Sum',
      Period: PERIOD_S,
      Threshold: s.throttles,
    });
  }
  if (s.loadFailures !== null) {
    out.ModelLoadFailuresAlarm = alarm(s, {
      name: 'model-load-failures',
      description: `The model failed to load at least ${s.loadFailures} times in 5 minutes (requests get MODEL_UNAVAILABLE).`,
      ...ownMetric(s, 'ModelLoadFailures'),
      Threshold: s.loadFailures,
    });
  }
  if (s.budget !== null) {
    out.BudgetRejectionsAlarm = alarm(s, {
      name: 'budget-rejections',
      description: `At least ${s.budget} inputs were refused by the work budget in 5 minutes: oversized work is being sent.`,
      ...ownMetric(s, 'BudgetRejections'),
      Threshold: s.budget,
    });
  }
  return out;
}

/** The dashboard's body: a JSON string for Fn::Sub (the function and the API by reference). */
function dashboardBody(s) {
  const door = doorMetrics(s);
  const own = (metricName, stat = 'Sum', extra = {}) => [
    s.namespace,
    metricName,
    'service',
    SERVICE_NAME,
    'stage',
    s.stage,
    { stat, ...extra },
  ];
  const search = (metricName, dimension, stat) => ({
    expression: `SEARCH('{${s.namespace},${dimension},service,stage} MetricName="${metricName}" service="${SERVICE_NAME}" stage="${s.stage}"', '${stat}', ${PERIOD_S})`,
  });
  const widget = (title, metrics, x, y, extra = {}) => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: {
      title,
      region: '${AWS::Region}',
      period: PERIOD_S,
      view: 'timeSeries',
      stacked: false,
      metrics,
      ...extra,
    },
  });
  const widgets = [
    widget(
      `Requests and 5xx (${door.title})`,
      [
        [door.namespace, door.count, ...door.dashboardDimensions, { stat: 'Sum' }],
        [door.namespace, door.fivexx, ...door.dashboardDimensions, { stat: 'Sum' }],
        [door.namespace, door.fourxx, ...door.dashboardDimensions, { stat: 'Sum' }],
      ],
      0,
      0,
    ),
    widget(
      'Duration (ms): function p50/p99, request latency p99',
      [
        ['AWS/Lambda', 'Duration', 'FunctionName', '${ApiLambdaFunction}', { stat: 'p50' }],
        ['AWS/Lambda', 'Duration', 'FunctionName', '${ApiLambdaFunction}', { stat: 'p99' }],
        own('Latency', 'p99'),
      ],
      12,
      0,
      { annotations: { horizontal: [{ label: 'timeout', value: s.timeoutS * 1000 }] } },
    ),
    widget(
      'Work: inputs, windows, tokens (sum)',
      [own('Inputs'), own('Windows'), own('Tokens', 'Sum', { yAxis: 'right' })],
      0,
      6,
    ),
    widget('Errors by code, budget rejections', [[search('Errors', 'code', 'Sum')], own('BudgetRejections')], 12, 6),
    widget(
      'Concurrency and throttles',
      [
        ['AWS/Lambda', 'ConcurrentExecutions', 'FunctionName', '${ApiLambdaFunction}', { stat: 'Maximum' }],
        ['AWS/Lambda', 'Throttles', 'FunctionName', '${ApiLambdaFunction}', { stat: 'Sum' }],
      ],
      0,
      12,
    ),
    widget(
      'Model loads (ms, by model version) and failures',
      [
        [search('ModelLoadMs', 'modelVersion', 'Maximum')],
        [search('ModelDownloadMs', 'modelVersion', 'Maximum')],
        own('ModelLoadFailures'),
      ],
      12,
      12,
    ),
  ];
  return JSON.stringify({ widgets });
}

module.exports = {
  /** resources.Resources: the alarms that are on, and the dashboard when `dashboard` is true. */
  resources: async ({ resolveVariable }) => {
    const s = await settings(resolveVariable);
    const out = alarms(s);
    if (s.dashboard) {
      out.ApiDashboard = {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardName: `${s.service}-${s.stage}`,
          DashboardBody: { 'Fn::Sub': dashboardBody(s) },
        },
      };
    }
    return out;
  },
};
