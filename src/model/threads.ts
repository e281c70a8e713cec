/**
 * How many threads one onnxruntime run should use. Measured here (docs/benchmarks.md): on two free
 * cores 2 threads are 1.6–1.9× faster than 1, but with one core busy elsewhere 2 threads are
 * 1.4–1.6× slower than 1 — a thread pool larger than the CPU the process really gets hurts. Lambda
 * exposes more cores than it grants: CPU share is proportional to memory, one vCPU per 1,769 MB.
 */

/** Lambda's memory per vCPU, in MB. */
export const LAMBDA_MB_PER_VCPU = 1769;

export function defaultIntraOpThreads(machine: { cores: number; lambdaMemoryMb?: number }): number {
  const cores = Math.max(1, Math.floor(machine.cores));
  if (machine.lambdaMemoryMb === undefined || !(machine.lambdaMemoryMb > 0)) return cores;
  return Math.max(1, Math.min(cores, Math.floor(machine.lambdaMemoryMb / LAMBDA_MB_PER_VCPU)));
}
