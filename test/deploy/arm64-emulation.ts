/**
 * Running linux arm64 binaries (Node 22 for arm64 and the arm64 Lambda package) on an x86_64
 * machine, with Debian's user-mode emulator `qemu-aarch64-static` (scripts/ensure-qemu-arm64.sh
 * installs it and the arm64 C/C++ runtimes under /usr/aarch64-linux-gnu).
 *
 * Why not simply `qemu-aarch64-static -L /usr/aarch64-linux-gnu`: qemu-user 7.2 (Debian 12) passes
 * the host's /proc/cpuinfo through unchanged to an aarch64 guest (it emulates that file only for a
 * few other targets). ONNX Runtime's CPU detection (the pytorch `cpuinfo` library, run when
 * libonnxruntime loads) parses it as an ARM one, finds none of the ARM fields in an x86 listing, and
 * dereferences NULL while reading the cache topology: `require('onnxruntime-node')` dies with
 * SIGSEGV under every `-cpu` model (the commands:
 * docs/decisions/2026-12-06-lambda-artifact-tested-off-lambda.md). qemu's `-L` prefix
 * is tried first for every absolute path the guest opens, so the prefix used here is a small folder
 * holding `lib` (a link to the arm64 runtimes) and an ARM-format `proc/cpuinfo` for the emulated
 * model: no privileges, no mount namespace. The instruction-set features ONNX Runtime picks kernels
 * by come from the auxiliary vector (AT_HWCAP), which qemu sets from `-cpu`; the file supplies the
 * core's identity (MIDR), which MLAS uses for some kernel variants, so it matches the model.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const QEMU = 'qemu-aarch64-static';
/** The arm64 sysroot of Debian's libc6-arm64-cross, libstdc++6-arm64-cross, libgcc-s1-arm64-cross. */
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

/**
 * qemu's `-cpu` models used here, with what a real Linux prints for them. `neoverse-n1` is the core of
 * Graviton2, the default for the tests; `cortex-a72` (Graviton1's core) has no dot-product (SDOT/UDOT)
 * instructions; `max` is everything qemu 7.2 implements (dot product, i8mm, SVE2, SME), MIDR 0x000f0510.
 */
export const QEMU_CPUS = {
  'cortex-a72': {
    implementer: 0x41,
    variant: 0x0,
    part: 0xd08,
    revision: 3,
    features: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid',
  },
  'neoverse-n1': {
    implementer: 0x41,
    variant: 0x3,
    part: 0xd0c,
    revision: 1,
    features: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs',
  },
  max: {
    implementer: 0x00,
    variant: 0x0,
    part: 0x051,
    revision: 0,
    features:
      'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp sve2 sveaes svepmull svebitperm svesha3 svesm4 flagm2 frint svei8mm svebf16 i8mm bf16 dgh rng bti mte',
  },
} as const;
export type QemuCpu = keyof typeof QEMU_CPUS;

/** An ARM-format /proc/cpuinfo for `cpus` cores of the given model. */
export function armCpuinfo(cpu: QemuCpu, cpus = Math.max(1, os.cpus().length)): string {
  const c = QEMU_CPUS[cpu];
  const hex = (n: number, width: number) => `0x${n.toString(16).padStart(width, '0')}`;
  let text = '';
  for (let i = 0; i < cpus; i++) {
    text +=
      `processor\t: ${i}\nBogoMIPS\t: 50.00\nFeatures\t: ${c.features}\nCPU implementer\t: ${hex(c.implementer, 2)}\n` +
      `CPU architecture: 8\nCPU variant\t: ${hex(c.variant, 1)}\nCPU part\t: ${hex(c.part, 3)}\nCPU revision\t: ${c.revision}\n\n`;
  }
  return text;
}

/** Why arm64 binaries cannot run here, or null when they can (natively, or under qemu). */
export function arm64Unavailable(): string | null {
  if (process.platform !== 'linux') return `linux only (this is ${process.platform})`;
  if (process.arch === 'arm64') return null;
  if (process.arch !== 'x64') return `needs an x64 or arm64 machine (this is ${process.arch})`;
  const missing: string[] = [];
  if (spawnSync('sh', ['-c', `command -v ${QEMU}`]).status !== 0) missing.push(`${QEMU} (qemu-user-static)`);
  if (!existsSync(path.join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1')))
    missing.push(`${ARM64_SYSROOT}/lib (libc6-arm64-cross)`);
  if (!existsSync(path.join(ARM64_SYSROOT, 'lib', 'libstdc++.so.6'))) missing.push('libstdc++6-arm64-cross');
  if (missing.length > 0)
    return `missing ${missing.join(', ')}: run scripts/ensure-qemu-arm64.sh as root (npm test's pretest does)`;
  return null;
}

/**
 * The `-L` prefix for a CPU model: `lib` → the arm64 runtimes, `proc/cpuinfo` for that model.
 * Built once per model and core count, by rename, so parallel Jest workers never see half of one.
 */
function sysroot(cpu: QemuCpu): string {
  const cpuinfo = armCpuinfo(cpu);
  const dir = path.join(os.tmpdir(), 'qa-arm64-sysroot', `${cpu}-${os.cpus().length}`);
  const file = path.join(dir, 'proc', 'cpuinfo');
  if (
    existsSync(file) &&
    readFileSync(file, 'utf8') === cpuinfo &&
    existsSync(path.join(dir, 'lib', 'ld-linux-aarch64.so.1'))
  )
    return dir;
  mkdirSync(path.dirname(dir), { recursive: true });
  const scratch = mkdtempSync(`${dir}.tmp-`);
  // mkdtemp makes it private; other users of this machine may run the tests too.
  chmodSync(scratch, 0o755);
  mkdirSync(path.join(scratch, 'proc'));
  writeFileSync(path.join(scratch, 'proc', 'cpuinfo'), cpuinfo);
  symlinkSync(path.join(ARM64_SYSROOT, 'lib'), path.join(scratch, 'lib'));
  // Only a folder of an older version of this file is replaced; a missing one is simply created.
  if (existsSync(file)) rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(scratch, dir);
  } catch (error) {
    // Another worker won the race: its folder is identical.
    rmSync(scratch, { recursive: true, force: true });
    if (!existsSync(file)) throw error;
  }
  return dir;
}

/**
 * The command prefix that runs an arm64 executable here: nothing on an arm64 machine; on x86_64,
 * qemu with the given `-cpu` model (plus `properties`, e.g. ',sme=off') and the prefix above.
 */
export function arm64Launcher(cpu: QemuCpu = 'neoverse-n1', properties = ''): string[] {
  if (process.arch === 'arm64') return [];
  return [QEMU, '-cpu', `${cpu}${properties}`, '-L', sysroot(cpu)];
}
