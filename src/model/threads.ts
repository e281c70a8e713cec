/**
 * How many threads one onnxruntime run should use: no more than the CPU the process really gets.
 * More threads help on free cores, but a thread pool larger than the CPU granted runs slower than
 * one thread (docs/benchmarks.md, "Threads when a core is taken"). Lambda exposes more cores than
 * it grants: CPU share is proportional to memory, one vCPU per 1,769 MB.
 */

/** Lambda's memory per vCPU, in MB. */
export const LAMBDA_MB_PER_VCPU = 1769;

export function defaultIntraOpThreads(machine: { cores: number; lambdaMemoryMb?: number }): number {
  const cores = Math.max(1, Math.floor(machine.cores));
  if (machine.lambdaMemoryMb === undefined || !(machine.lambdaMemoryMb > 0)) return cores;
  return Math.max(1, Math.min(cores, Math.floor(machine.lambdaMemoryMb / LAMBDA_MB_PER_VCPU)));
}
