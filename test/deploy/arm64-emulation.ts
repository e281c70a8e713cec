/**
 * Running linux arm64 binaries (Node 22 for arm64 and the arm64 Lambda package) on an x86_64
 * machine, with Debian's user-mode emulator `qemu-aarch64-static` (scripts/ensure-qemu-arm64.sh
 * installs it and the arm64 C/C++ runtimes under /usr/aarch64-linux-gnu).
 *
 * Why the fake /proc/cpuinfo: qemu-user 7.2 (Debian 12) passes the host's /proc/cpuinfo through
 * unchanged to an aarch64 guest (it emulates that file only for a few other targets). ONNX
 * Runtime's CPU detection (the pytorch `cpuinfo` library, run when libonnxruntime is loaded) parses
 * it as an ARM one, finds none of the ARM fields in an x86 listing, and dereferences NULL while
 * reading the cache topology: `require('onnxruntime-node')` dies with SIGSEGV under every `-cpu`
 * model (measured; docs/deploy.md has the commands). So each run gets its own mount namespace in
 * which an ARM-format /proc/cpuinfo for the emulated model is bind-mounted over the host's. The
 * instruction-set features ONNX Runtime uses come from the auxiliary vector (AT_HWCAP), which qemu
 * sets from `-cpu`; the file supplies the core's identity (MIDR), which MLAS uses to pick kernel
 * variants, so it is kept consistent with the model.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
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
  'cortex-a72': { implementer: 0x41, variant: 0x0, part: 0xd08, revision: 3, features: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid' },
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
    features: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp sve2 sveaes svepmull svebitperm svesha3 svesm4 flagm2 frint svei8mm svebf16 i8mm bf16 dgh rng bti mte',
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
  const missing = [QEMU, 'unshare'].filter((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
  if (!existsSync(path.join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) missing.push(`${ARM64_SYSROOT} (libc6-arm64-cross)`);
  if (missing.length > 0) return `missing ${missing.join(', ')}: run scripts/ensure-qemu-arm64.sh as root (npm test's pretest does)`;
  return null;
}

/**
 * The command prefix that runs an arm64 executable here: nothing on an arm64 machine; on x86_64,
 * a private mount namespace (as root; otherwise a user namespace) with the fake /proc/cpuinfo
 * bind-mounted, then qemu with the given `-cpu` model and the arm64 sysroot.
 */
export function arm64Launcher(cpu: QemuCpu = 'neoverse-n1', properties = ''): string[] {
  if (process.arch === 'arm64') return [];
  const dir = path.join(os.tmpdir(), 'qa-arm64-cpuinfo');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${cpu}-${process.pid}`);
  writeFileSync(file, armCpuinfo(cpu));
  const namespace = process.getuid?.() === 0 ? ['unshare', '--mount', '--propagation', 'private'] : ['unshare', '--user', '--map-root-user', '--mount'];
  // sh's "$0" is the file to mount; "$@" the command, so no argument is ever parsed by the shell.
  // `properties` switch single features of the model off, e.g. ',sme=off'.
  return [...namespace, 'sh', '-c', 'mount --bind "$0" /proc/cpuinfo && exec "$@"', file, QEMU, '-cpu', `${cpu}${properties}`, '-L', ARM64_SYSROOT];
}
