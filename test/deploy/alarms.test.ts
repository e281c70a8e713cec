/**
 * Alarms and the dashboard in the deployment, asserted on the CloudFormation that `osls package`
 * generates (offline, without credentials): the five alarms with their documented defaults, the
 * metrics they watch (the function's own ones with exactly the dimensions src/server/metrics.ts
 * emits: `service` and `stage`), the SNS topic parameter, `none` per alarm, the dashboard switch,
 * refused values, and the Powertools settings in the function's environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { templatePackager, type CfnTemplate } from './templates';

/** The documented defaults (serverless.yml `params.default`; docs/operations.md, "Alarms"). */
const DEFAULTS = {
  alarm5xxPercent: 5,
  alarmDurationPercent: 80,
  timeoutS: 29,
  alarmThrottles: 1,
  alarmModelLoadFailures: 1,
  alarmBudgetRejections: 50,
};
const SERVICE = 'serverless-qa-graphql';
const NAMESPACE = 'ServerlessQaGraphql';
const ALARMS = [
  'Api5xxRateAlarm',
  'ApiDurationP99Alarm',
  'ApiThrottlesAlarm',
  'BudgetRejectionsAlarm',
  'ModelLoadFailuresAlarm',
];

const scratch = mkdtempSync(path.join(os.tmpdir(), 'alarms-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const { osls, packaged } = templatePackager(scratch);
const alarmsOf = (t: CfnTemplate) =>
  Object.fromEntries(
    Object.entries(t.Resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([k, r]) => [k, r.Properties]),
  );
const dashboardsOf = (t: CfnTemplate) =>
  Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');

let prod: CfnTemplate;
beforeAll(() => {
  prod = packaged(['--stage', 'prod']);
}, 120_000);

describe('defaults', () => {
  test('five alarms with the documented thresholds, notifying nobody', () => {
    const alarms = alarmsOf(prod);
    expect(Object.keys(alarms).sort()).toEqual(ALARMS);
    expect(alarms.Api5xxRateAlarm.Threshold).toBe(DEFAULTS.alarm5xxPercent);
    expect(alarms.ApiDurationP99Alarm.Threshold).toBe((DEFAULTS.timeoutS * 1000 * DEFAULTS.alarmDurationPercent) / 100);
    expect(alarms.ApiThrottlesAlarm.Threshold).toBe(DEFAULTS.alarmThrottles);
    expect(alarms.ModelLoadFailuresAlarm.Threshold).toBe(DEFAULTS.alarmModelLoadFailures);
    expect(alarms.BudgetRejectionsAlarm.Threshold).toBe(DEFAULTS.alarmBudgetRejections);
    for (const [name, a] of Object.entries(alarms)) {
      expect([name, a.AlarmActions, a.OKActions]).toEqual([name, undefined, undefined]);
      expect(a).toMatchObject({
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        EvaluationPeriods: 1,
      });
      expect(a.AlarmName).toMatch(new RegExp(`^${SERVICE}-prod-`));
    }
  });

  test('the 5xx rate is 5xx / Count of this HTTP API, ignored under 10 requests', () => {
    const { Metrics: metrics } = alarmsOf(prod).Api5xxRateAlarm;
    const stat = (id: string) => metrics.find((m: any) => m.Id === id).MetricStat;
    expect(stat('errors').Metric).toEqual({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
    });
    expect(stat('requests').Metric).toEqual({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Count',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
    });
    expect(metrics.filter((m: any) => m.ReturnData).map((m: any) => m.Expression)).toEqual([
      'IF(requests >= 10, 100 * errors / requests, 0)',
    ]);
    expect(prod.Resources.HttpApi?.Type).toBe('AWS::ApiGatewayV2::Api');
  });

  test("duration p99 and throttles watch this function's Lambda metrics", () => {
    const alarms = alarmsOf(prod);
    expect(prod.Resources.ApiLambdaFunction?.Type).toBe('AWS::Lambda::Function');
    expect(alarms.ApiDurationP99Alarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ApiLambdaFunction' } }],
    });
    expect(alarms.ApiThrottlesAlarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ApiLambdaFunction' } }],
    });
  });

  test("model load failures and budget rejections watch the function's EMF metrics with its exact dimensions", () => {
    const alarms = alarmsOf(prod);
    const dims = [
      { Name: 'service', Value: SERVICE },
      { Name: 'stage', Value: 'prod' },
    ];
    expect(alarms.ModelLoadFailuresAlarm).toMatchObject({
      Namespace: NAMESPACE,
      MetricName: 'ModelLoadFailures',
      Statistic: 'Sum',
      Dimensions: dims,
    });
    expect(alarms.BudgetRejectionsAlarm).toMatchObject({
      Namespace: NAMESPACE,
      MetricName: 'BudgetRejections',
      Statistic: 'Sum',
      Dimensions: dims,
    });
    // The function names the same service and namespace, and its stage is the dimension's.
    expect(prod.Resources.ApiLambdaFunction!.Properties.Environment.Variables).toMatchObject({
      API_STAGE: 'prod',
      POWERTOOLS_SERVICE_NAME: SERVICE,
      POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_LOGGER_SAMPLE_RATE: '0',
    });
  });

  test('one dashboard for the stage, over the same metrics', () => {
    const [dashboard] = dashboardsOf(prod);
    expect(dashboardsOf(prod)).toHaveLength(1);
    expect(dashboard!.Properties.DashboardName).toBe(`${SERVICE}-prod`);
    const body = JSON.parse(dashboard!.Properties.DashboardBody['Fn::Sub']) as {
      widgets: Array<{ properties: { metrics: unknown[] } }>;
    };
    const text = JSON.stringify(body);
    for (const name of [
      '"5xx"',
      '"Duration"',
      '"Latency"',
      '"Windows"',
      '"Tokens"',
      '"Inputs"',
      '"BudgetRejections"',
      '"Throttles"',
      '"ModelLoadFailures"',
      'MetricName=\\"Errors\\"',
      'MetricName=\\"ModelLoadMs\\"',
    ]) {
      expect(text).toContain(name);
    }
    // Fn::Sub resolves only these references.
    expect([...new Set(text.match(/\$\{[^}]+\}/g))].sort()).toEqual([
      '${AWS::Region}',
      '${ApiLambdaFunction}',
      '${HttpApi}',
    ]);
  });
});

describe('parameters', () => {
  test('a topic, other thresholds and the timeout', () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:qa-alarms';
    const t = packaged(['--stage', 'staging'], {
      alarmTopicArn: topic,
      alarm5xxPercent: '2',
      alarmBudgetRejections: '500',
      alarmDurationPercent: '50',
      timeout: '20',
    });
    const alarms = alarmsOf(t);
    for (const a of Object.values(alarms)) expect([a.AlarmActions, a.OKActions]).toEqual([[topic], [topic]]);
    expect([
      alarms.Api5xxRateAlarm.Threshold,
      alarms.BudgetRejectionsAlarm.Threshold,
      alarms.ApiDurationP99Alarm.Threshold,
    ]).toEqual([2, 500, 10_000]);
    expect(alarms.BudgetRejectionsAlarm.Dimensions).toEqual([
      { Name: 'service', Value: SERVICE },
      { Name: 'stage', Value: 'staging' },
    ]);
  }, 120_000);

  test('`none` leaves an alarm out; dashboard=false leaves the dashboard out', () => {
    const t = packaged(['--stage', 'prod'], {
      alarmThrottles: 'none',
      alarmBudgetRejections: 'none',
      dashboard: 'false',
    });
    expect(Object.keys(alarmsOf(t)).sort()).toEqual([
      'Api5xxRateAlarm',
      'ApiDurationP99Alarm',
      'ModelLoadFailuresAlarm',
    ]);
    expect(dashboardsOf(t)).toEqual([]);
  }, 120_000);

  test.each([
    [{ alarm5xxPercent: '0' }, 'alarm5xxPercent must be a number above 0 and at most 100'],
    [{ alarmDurationPercent: '120' }, 'alarmDurationPercent must be a number above 0 and at most 100'],
    [{ alarmBudgetRejections: 'lots' }, 'alarmBudgetRejections must be a number above 0'],
    [{ dashboard: 'yes' }, 'dashboard must be true or false'],
  ])(
    '%j is refused',
    (params, message) => {
      const { template, output } = osls(['--stage', 'prod'], params);
      expect(template).toBeUndefined();
      expect(output).toContain(message);
    },
    120_000,
  );
});
