/** Markdown for `npm run bench:cold`: the overlap and artifact sections, and the targets table. */
import type { Summary } from './stats';
import type { ArtifactSection } from './sections/artifact-first-answer';
import type { OverlapRow } from './sections/cold-overlap';

const ms = (s: Summary) =>
  Number.isNaN(s.median) ? '—' : `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
const med = (s: Summary) => (Number.isNaN(s.median) ? '—' : s.median.toFixed(0));

export function overlapTable(rows: readonly OverlapRow[]): string {
  return [
    '| Model | Cores | Runs | Cold load, overlapped | Cold load, serial | Cold load, API evaluated during it | Download alone | Engine alone | of which first session | tokenizer | Later session | In the cold load: download / session / tokenizer / warm-up | CPU: cold load / parts alone | Cold load / parts alone: overlapped, serial, floor |',
    '| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.cores} | ${r.runs} | ${ms(r.coldLoad)} | ${ms(r.coldLoadSerial)} | ${ms(r.coldLoadApiDuring)} | ${ms(r.downloadAlone)} | ${ms(r.engineAlone)} | ${ms(r.firstSession)} | ${med(r.tokenizerAlone)} | ${ms(r.laterSession)} | ${med(r.inColdDownload)} / ${med(r.inColdSession)} / ${med(r.inColdTokenizer)} / ${med(r.warmUp)} | ${med(r.coldLoadCpu)} / ${med(r.partsAloneCpu)} | ${r.ratio.toFixed(2)}, ${r.ratioSerial.toFixed(2)}, ${r.floorRatio.toFixed(2)} |`,
    ),
    '',
    "Parts alone = download alone + engine alone, each in its own fresh process. The cold loads overlapped and serial evaluate the API before the load, so they hold the same work as the parts; the Lambda entry evaluates it during the download (that column), which the packaged artifact below measures end to end. CPU: the process's, every thread. *Floor*: the least any overlap of the same work could reach, from the same round: on one core the cold load's own CPU time (one core runs one thing at a time); on two, the download alone and then the session that needs all of its bytes (as fast as in the cold load, after the warm-up), or half the CPU time if more.",
  ].join('\n');
}

export function artifactTable(section: ArtifactSection): string {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  return [
    `Packaged x86_64 artifact on Node ${section.nodeVersion}, model int8 from the S3 stand-in; ms, median (min–max):`,
    '',
    '| Model | Cores | Runs | To first answer | Parts (sum) | Boot | INIT | Download | Session | Tokenizer | Load, rest | INIT outside the load | API evaluation ∥ | First invocation | Ratio |',
    '| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...section.rows.map(
      (r) =>
        `| ${r.model} | ${r.cores} | ${r.runs} | ${ms(r.toFirstAnswer)} | ${med(r.parts)} | ${med(r.boot)} | ${med(r.init)} | ${med(r.download)} | ${med(r.session)} | ${med(r.tokenizer)} | ${med(r.loadRest)} | ${med(r.initOutsideLoad)} | ${med(r.apiEvaluation)} | ${med(r.firstInvocation)} | ${r.ratio.median.toFixed(2)} |`,
    ),
    '',
    `Parts = boot + download + session + tokenizer + first invocation (∥: overlapped with the download). INIT = download + session + tokenizer + load's rest (probe run, the wait for the warm-up; negative by the tokenizer's time when it was parsed during the download) + INIT outside the load (the entry's modules and S3 client before it, the API's evaluation if it ends later). Package: ${mb(section.packageBytes.zipped)} MB zipped / ${mb(section.packageBytes.unzipped)} MB unzipped.`,
  ].join('\n');
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  /** The least ratio the same work could reach with a perfect overlap, when the bench knows it. */
  floor?: number;
}

export function targetsTable(targets: readonly Target[]): string {
  return [
    '| Target | Ratio | Limit | Result | Floor of the same work |',
    '| --- | --: | --: | --- | --: |',
    ...targets.map(
      (t) =>
        `| ${t.name} | ${t.value.toFixed(2)} | ≤ ${t.limit} | ${t.value <= t.limit ? 'pass' : '**fail**'} | ${t.floor === undefined ? '—' : t.floor.toFixed(2)} |`,
    ),
  ].join('\n');
}

/** The cold start's targets, from the two sections. */
export function coldTargets(overlap: readonly OverlapRow[], artifact: ArtifactSection | undefined): Target[] {
  const targets: Target[] = [];
  for (const r of overlap)
    targets.push({
      name: `${r.model}: cold load / parts alone, ${r.cores}`,
      value: r.ratio,
      limit: r.cores === '1 core' ? 0.85 : 0.7,
      floor: r.floorRatio,
    });
  for (const r of artifact?.rows ?? [])
    targets.push({
      name: `${r.model}: packaged artifact to first answer / its parts, ${r.cores}`,
      value: r.ratio.median,
      limit: 1.2,
    });
  return targets;
}
